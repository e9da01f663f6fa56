# Contributors' build of the addon (`pnpm build` runs it through scripts/build-addon.mjs). It lives here, not at the
# package root, because npm and pnpm give any package with a root binding.gyp an implicit `node-gyp rebuild` install
# script; published binaries come from scripts/build-platforms.sh and the release matrix instead.
{
  "targets": [
    {
      "target_name": "shm_queue",
      "sources": ["shm.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "conditions": [
        ["OS=='mac'", { "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-std=c11"] } }]
      ]
    }
  ]
}
