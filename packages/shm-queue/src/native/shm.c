/*
 * Named shared-memory segments for @wsproxy/shm-queue, on plain Node-API (one binary for every Node version).
 *
 * The addon only maps memory; the ring protocol lives in TypeScript on top of the returned ArrayBuffer.
 *   create(name, size) -> { buffer, handle }   exclusive create, mode 0600, zero-filled, mapped
 *   open(name)         -> { buffer, handle }   map an existing segment at its full size
 *   close(handle, buffer)                      unmap now and detach the buffer, so stale views read as empty
 *   unlink(name)                               remove the name (POSIX); a no-op on Windows
 * Errors are thrown as Error objects with `code` set to an errno name (ENOENT, EEXIST, EACCES, ...; ENODATA for a
 * segment its creator has not sized yet; EINVAL for bad arguments), or to SHMQ_ERR_NATIVE_ADDON when a Node-API
 * call itself failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#define NAME_MAX_BYTES 240

#ifdef __linux__
/* glibc 2.34 moved shm_open/shm_unlink from librt into libc under a new symbol version (GLIBC_2.34), and 2.33 made
 * fstat a real symbol (GLIBC_2.33): a binary linked on a new system then refuses to load on Ubuntu 20.04, Debian 11,
 * RHEL 8 or Amazon Linux 2. On Linux, POSIX shared memory *is* a file in the /dev/shm tmpfs (that is all glibc's and
 * musl's shm_open do), so the addon opens it there itself, with the same flags, and sizes it with lseek instead of
 * fstat. Every symbol left is in glibc 2.17 (scripts/check-glibc-symbols.sh proves it on each build). */
#define SHM_DIR "/dev/shm"
#define SHM_FLAGS (O_NOFOLLOW | O_CLOEXEC)
static int segment_open(const char *name, int flags, mode_t mode) {
  char path[sizeof SHM_DIR + NAME_MAX_BYTES + 8];
  snprintf(path, sizeof path, SHM_DIR "%s", name);
  return open(path, flags | SHM_FLAGS, mode);
}
static int segment_unlink(const char *name) {
  char path[sizeof SHM_DIR + NAME_MAX_BYTES + 8];
  snprintf(path, sizeof path, SHM_DIR "%s", name);
  return unlink(path);
}
static int segment_size(int fd, size_t *size) {
  off_t end = lseek(fd, 0, SEEK_END);
  if (end < 0) return -1;
  *size = (size_t)end;
  return 0;
}
#elif !defined(_WIN32)
#define segment_open shm_open
#define segment_unlink shm_unlink
static int segment_size(int fd, size_t *size) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  *size = (size_t)st.st_size;
  return 0;
}
#endif

/* One mapping, owned jointly by the ArrayBuffer (finalizer) and the JS-visible handle (finalizer): whichever
 * finalizer runs last frees it; whoever runs first after an explicit close does not unmap twice. */
typedef struct {
  void *addr;
  size_t length;
  int mapped;
  int refs;
#ifdef _WIN32
  HANDLE mapping;
#endif
} mapping_t;

static void mapping_unmap(mapping_t *m) {
  if (!m->mapped) return;
  m->mapped = 0;
#ifdef _WIN32
  UnmapViewOfFile(m->addr);
  CloseHandle(m->mapping);
#else
  munmap(m->addr, m->length);
#endif
}

static void mapping_release(mapping_t *m) {
  if (--m->refs > 0) return;
  mapping_unmap(m);
  free(m);
}

static void finalize_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping_release((mapping_t *)hint);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  mapping_release((mapping_t *)data);
}

static napi_value throw_code(napi_env env, const char *code, const char *message) {
  /* If even throwing fails there is nothing left to report with: Node-API has an exception pending already. */
  (void)napi_throw_error(env, code, message);
  return NULL;
}

/* Every Node-API call is checked (classic-level's NAPI_STATUS_THROWS is the model). A failed call keeps the JS
 * exception it left pending, if any; otherwise it throws SHMQ_ERR_NATIVE_ADDON with Node-API's own message, which
 * segment.ts turns into a NativeAddonError. Node-API's last error is read first: any further call overwrites it. */
static napi_value throw_napi_failure(napi_env env, napi_status status, const char *call) {
  const napi_extended_error_info *info = NULL;
  char message[320];
  const char *why = napi_get_last_error_info(env, &info) == napi_ok && info != NULL && info->error_message != NULL
                        ? info->error_message
                        : "unknown error";
  snprintf(message, sizeof message, "Node-API call %s failed: %s (status %d)", call, why, (int)status);
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return NULL;
  return throw_code(env, "SHMQ_ERR_NATIVE_ADDON", message);
}

#define NAPI_CALL_OR(env, call, failed)                                                                          \
  do {                                                                                                           \
    napi_status napi_status_ = (call);                                                                           \
    if (napi_status_ != napi_ok) {                                                                               \
      throw_napi_failure((env), napi_status_, #call);                                                            \
      return failed;                                                                                             \
    }                                                                                                            \
  } while (0)
#define NAPI_CALL(env, call) NAPI_CALL_OR(env, call, NULL)

/* The handle is an external tagged with this value, so close() can tell its own handle from any other external
 * (another addon's, or a forged one) before it trusts the pointer inside. */
static const napi_type_tag MAPPING_TAG = {0x7773707278790001ULL, 0x73686d2d71756575ULL};

#ifdef _WIN32
static const char *win_code(DWORD err) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND: return "ENOENT";
    case ERROR_ALREADY_EXISTS: return "EEXIST";
    case ERROR_ACCESS_DENIED: return "EACCES";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_COMMITMENT_LIMIT: return "ENOMEM";
    default: return "EIO";
  }
}
#define THROW_OS(env, what) throw_code((env), win_code(GetLastError()), (what))
#else
static const char *errno_code(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    default: return "EIO";
  }
}
#define THROW_OS(env, what) throw_code((env), errno_code(errno), (what))
#endif

/* Reads args[index] as a segment name into buf ("/name" on POSIX, "Local\\name" on Windows). */
static int read_name(napi_env env, napi_value value, char *buf, size_t cap) {
  size_t len = 0;
#ifdef _WIN32
  const char *prefix = "Local\\";
#else
  const char *prefix = "/";
#endif
  size_t plen = strlen(prefix);
  memcpy(buf, prefix, plen);
  napi_valuetype type;
  NAPI_CALL_OR(env, napi_typeof(env, value, &type), 0);
  if (type != napi_string) {
    throw_code(env, "EINVAL", "segment name must be a string");
    return 0;
  }
  NAPI_CALL_OR(env, napi_get_value_string_utf8(env, value, buf + plen, cap - plen, &len), 0);
  if (len == 0 || len >= NAME_MAX_BYTES) {
    throw_code(env, "EINVAL", "segment name must be 1..239 bytes");
    return 0;
  }
  return 1;
}

static napi_value wrap_mapping(napi_env env, mapping_t *m) {
  napi_value result, buffer, handle;
  m->refs = 2;
  napi_status status = napi_create_external_arraybuffer(env, m->addr, m->length, finalize_buffer, m, &buffer);
  if (status != napi_ok) {
    m->refs = 0;
    mapping_unmap(m);
    free(m);
    return throw_napi_failure(env, status, "napi_create_external_arraybuffer");
  }
  status = napi_create_external(env, m, finalize_handle, NULL, &handle);
  if (status != napi_ok) {
    m->refs = 1; /* the buffer's finalizer still owns it */
    return throw_napi_failure(env, status, "napi_create_external");
  }
  /* From here both finalizers own their reference, whatever fails next. */
  NAPI_CALL(env, napi_type_tag_object(env, handle, &MAPPING_TAG));
  NAPI_CALL(env, napi_create_object(env, &result));
  NAPI_CALL(env, napi_set_named_property(env, result, "buffer", buffer));
  NAPI_CALL(env, napi_set_named_property(env, result, "handle", handle));
  return result;
}

static napi_value shm_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  char name[NAME_MAX_BYTES + 8];
  double size_d = 0;
  napi_valuetype size_type;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 2) return throw_code(env, "EINVAL", "create(name, size) needs two arguments");
  if (!read_name(env, args[0], name, sizeof name)) return NULL;
  NAPI_CALL(env, napi_typeof(env, args[1], &size_type));
  if (size_type != napi_number) return throw_code(env, "EINVAL", "segment size must be a number");
  NAPI_CALL(env, napi_get_value_double(env, args[1], &size_d));
  if (!(size_d >= 1 && size_d <= (double)SIZE_MAX)) return throw_code(env, "EINVAL", "segment size must be positive");
  size_t size = (size_t)size_d;
  mapping_t *m = calloc(1, sizeof *m);
  if (m == NULL) return throw_code(env, "ENOMEM", "out of memory");
#ifdef _WIN32
  /* Page-file backed, visible to this session only ("Local\"); the default DACL limits it to this user. */
  HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, (DWORD)((uint64_t)size >> 32),
                                (DWORD)(size & 0xffffffffu), name);
  if (h == NULL) { free(m); return THROW_OS(env, "CreateFileMapping failed"); }
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(h);
    free(m);
    return throw_code(env, "EEXIST", "a segment with this name already exists");
  }
  void *addr = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
  if (addr == NULL) { CloseHandle(h); free(m); return THROW_OS(env, "MapViewOfFile failed"); }
  m->mapping = h;
#else
  int fd = segment_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) { free(m); return THROW_OS(env, "shm_open(O_CREAT|O_EXCL) failed"); }
  /* The umask may have narrowed the mode, never widened it; fchmod makes 0600 exact either way. Some systems
   * (macOS) refuse fchmod on shared-memory objects; the mode given to shm_open then stands, which is never wider. */
  int chmod_failed = fchmod(fd, 0600) != 0;
#ifdef __APPLE__
  chmod_failed = 0;
#endif
  if (chmod_failed || ftruncate(fd, (off_t)size) != 0) {
    int err = errno;
    close(fd);
    segment_unlink(name);
    free(m);
    errno = err;
    return THROW_OS(env, "cannot size the new segment");
  }
  void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) {
    segment_unlink(name);
    free(m);
    errno = err;
    return THROW_OS(env, "mmap failed");
  }
#endif
  m->addr = addr;
  m->length = size;
  m->mapped = 1;
  return wrap_mapping(env, m);
}

static napi_value shm_open_existing(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  char name[NAME_MAX_BYTES + 8];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 1) return throw_code(env, "EINVAL", "open(name) needs a name");
  if (!read_name(env, args[0], name, sizeof name)) return NULL;
  mapping_t *m = calloc(1, sizeof *m);
  if (m == NULL) return throw_code(env, "ENOMEM", "out of memory");
#ifdef _WIN32
  HANDLE h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
  if (h == NULL) { free(m); return THROW_OS(env, "OpenFileMapping failed"); }
  void *addr = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  if (addr == NULL) { CloseHandle(h); free(m); return THROW_OS(env, "MapViewOfFile failed"); }
  MEMORY_BASIC_INFORMATION mbi;
  if (VirtualQuery(addr, &mbi, sizeof mbi) == 0) {
    UnmapViewOfFile(addr);
    CloseHandle(h);
    free(m);
    return THROW_OS(env, "VirtualQuery failed");
  }
  m->mapping = h;
  size_t size = mbi.RegionSize;
#else
  int fd = segment_open(name, O_RDWR, 0);
  if (fd < 0) { free(m); return THROW_OS(env, "shm_open failed"); }
  size_t size = 0;
  if (segment_size(fd, &size) != 0) {
    int err = errno;
    close(fd);
    free(m);
    errno = err;
    return THROW_OS(env, "cannot read the segment's size");
  }
  if (size == 0) {
    close(fd);
    free(m);
    /* Its creator has not sized it yet (shm_open and ftruncate are two steps): there is nothing to map. */
    return throw_code(env, "ENODATA", "the segment is empty");
  }
  void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) { free(m); errno = err; return THROW_OS(env, "mmap failed"); }
#endif
  m->addr = addr;
  m->length = size;
  m->mapped = 1;
  return wrap_mapping(env, m);
}

/* The mapping behind a handle from create/open, or NULL with EINVAL thrown for anything else. */
static mapping_t *unwrap_handle(napi_env env, napi_value value) {
  napi_valuetype type;
  bool tagged = false;
  void *data = NULL;
  NAPI_CALL(env, napi_typeof(env, value, &type));
  if (type == napi_external) NAPI_CALL(env, napi_check_object_type_tag(env, value, &MAPPING_TAG, &tagged));
  if (!tagged) {
    throw_code(env, "EINVAL", "close(handle, buffer) needs the handle returned by create/open");
    return NULL;
  }
  NAPI_CALL(env, napi_get_value_external(env, value, &data));
  return (mapping_t *)data;
}

static napi_value shm_close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  bool is_arraybuffer = false, detached = false;
  void *data = NULL;
  size_t length = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 2) return throw_code(env, "EINVAL", "close(handle, buffer) needs two arguments");
  mapping_t *m = unwrap_handle(env, args[0]);
  if (m == NULL) return NULL;
  if (!m->mapped) return NULL; /* closed before: nothing left to do */
  /* The pages may go only once no JS view can reach them: the buffer must be this mapping's own, and detaching it
   * must succeed. Otherwise the mapping stays (the finalizers free it later) and the caller hears why. */
  NAPI_CALL(env, napi_is_arraybuffer(env, args[1], &is_arraybuffer));
  if (!is_arraybuffer) return throw_code(env, "EINVAL", "close(handle, buffer) needs the mapping's ArrayBuffer");
  NAPI_CALL(env, napi_is_detached_arraybuffer(env, args[1], &detached));
  if (detached) {
    /* ArrayBuffer.prototype.transfer() moves the pages to a new buffer we cannot see: unmapping would free them
     * under it. */
    return throw_code(env, "EINVAL", "the mapping's ArrayBuffer was detached elsewhere; it stays mapped until collected");
  }
  NAPI_CALL(env, napi_get_arraybuffer_info(env, args[1], &data, &length));
  if (data != m->addr || length != m->length) {
    return throw_code(env, "EINVAL", "this ArrayBuffer is not the one mapped by this handle");
  }
  NAPI_CALL(env, napi_detach_arraybuffer(env, args[1]));
  mapping_unmap(m);
  return NULL;
}

static napi_value shm_unlink_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  char name[NAME_MAX_BYTES + 8];
  napi_value result;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 1) return throw_code(env, "EINVAL", "unlink(name) needs a name");
  if (!read_name(env, args[0], name, sizeof name)) return NULL;
#ifdef _WIN32
  /* A Windows mapping disappears with its last handle; there is no name to remove. */
  NAPI_CALL(env, napi_get_boolean(env, true, &result));
#else
  if (segment_unlink(name) != 0) {
    if (errno == ENOENT) {
      NAPI_CALL(env, napi_get_boolean(env, false, &result));
      return result;
    }
    return THROW_OS(env, "shm_unlink failed");
  }
  NAPI_CALL(env, napi_get_boolean(env, true, &result));
#endif
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"create", NULL, shm_create, NULL, NULL, NULL, napi_default, NULL},
    {"open", NULL, shm_open_existing, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, shm_close, NULL, NULL, NULL, napi_default, NULL},
    {"unlink", NULL, shm_unlink_name, NULL, NULL, NULL, napi_default, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
