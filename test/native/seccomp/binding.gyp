{
  # Test-only addon for test/seccomp.test.ts (Linux x64). Built by the test with the node-gyp
  # that ships inside npm, against the installed Node headers; never part of the package.
  "targets": [
    {
      "target_name": "seccomp",
      "sources": ["seccomp.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
