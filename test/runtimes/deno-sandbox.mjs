/**
 * What every zero-permission Deno driver reports about its sandbox: the state of each permission
 * (none may be granted under `deno run --no-prompt`) and a negative control, a file read that
 * must be refused (the driver's own module).
 */
const PERMISSIONS = ['read', 'write', 'net', 'env', 'run', 'ffi', 'sys', 'import'];

/** `{ permissions, fileRead }` for the driver at `moduleUrl` (its `import.meta.url`). */
export function denoSandboxReport(moduleUrl) {
  const permissions = Object.fromEntries(PERMISSIONS.map((name) => [name, Deno.permissions.querySync({ name }).state]));
  let fileRead;
  try {
    Deno.readTextFileSync(new URL(moduleUrl));
    fileRead = 'allowed';
  } catch (error) {
    fileRead = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied ? 'denied' : `failed: ${error}`;
  }
  return { permissions, fileRead };
}
