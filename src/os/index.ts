export { CAPABILITIES, CapabilityDeniedError } from './platform.js';
export type { Capability, Clock, DiagnosticsSink, EntropySource, Locks, Platform } from './platform.js';
export { defaultPlatform } from './default.js';
export { recordingPlatform } from './recording.js';
export type { CapabilityEvent, RecordingPlatform } from './recording.js';
export { denyingPlatform } from './denying.js';
export { scriptedPlatform } from './scripted.js';
export type { ScriptedClock, ScriptedEntropy, ScriptedPlatform, ScriptedPlatformOptions } from './scripted.js';
export { inProcessLocks } from './locks.js';
