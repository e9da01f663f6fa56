{
  "targets": [
    {
      "target_name": "shm_queue",
      "sources": ["src/native/shm.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-lrt"] }],
        ["OS=='mac'", { "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-std=c11"] } }]
      ]
    }
  ]
}
