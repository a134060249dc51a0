/*
 * The output relay's hot loop (src/log/line-relay.ts): the whole lines of a
 * chunk copied, each behind the service's prefix, into the sink's buffer in
 * one call. In JavaScript a line costs a search and two copies through calls
 * (about 1 CPU-second per GB of 100-byte lines); here it is memchr + memcpy.
 * Lines it does not take (longer than maxLine, unfinished, or not fitting)
 * are left to the JavaScript around it, which cuts and carries them.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#define NAPI_VERSION 8
#include <node_api.h>
#include "boxinit.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* The bytes of a Uint8Array (or Buffer) argument; 0 with a TypeError thrown when it is none. */
static int bytes_arg(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "boxinit.node: prefixLines: expected a Uint8Array argument");
    return 0;
  }
  *data = raw;
  return 1;
}

static int int_arg(napi_env env, napi_value value, uint32_t *out) {
  if (napi_get_value_uint32(env, value, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "boxinit.node: prefixLines: expected a non-negative integer argument");
    return 0;
  }
  return 1;
}

/*
 * prefixLines(input, from, to, prefix, output, outAt, outEnd, maxLine, result):
 * copies prefix + line for each whole line ("\n"-ended, at most maxLine bytes
 * before the "\n") of input[from, to) into output from outAt, while it fits
 * before outEnd. Writes where it stopped into result (an Int32Array of 2):
 * [next from, next outAt]. Bounds are checked against the arrays' lengths;
 * out of range: a RangeError, nothing copied.
 */
static napi_value prefix_lines(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!get_args(env, info, 9, argv)) return NULL;
  uint8_t *input, *prefix, *output;
  size_t input_length, prefix_length, output_length;
  uint32_t from, to, out_at, out_end, max_line;
  napi_typedarray_type type;
  size_t result_length;
  void *result_data;
  if (!bytes_arg(env, argv[0], &input, &input_length) || !int_arg(env, argv[1], &from) || !int_arg(env, argv[2], &to) ||
      !bytes_arg(env, argv[3], &prefix, &prefix_length) || !bytes_arg(env, argv[4], &output, &output_length) ||
      !int_arg(env, argv[5], &out_at) || !int_arg(env, argv[6], &out_end) || !int_arg(env, argv[7], &max_line)) {
    return NULL;
  }
  if (napi_get_typedarray_info(env, argv[8], &type, &result_length, &result_data, NULL, NULL) != napi_ok ||
      type != napi_int32_array || result_length < 2) {
    napi_throw_type_error(env, NULL, "boxinit.node: prefixLines: expected an Int32Array of 2 for the result");
    return NULL;
  }
  if (from > to || to > input_length || out_at > out_end || out_end > output_length) {
    napi_throw_range_error(env, NULL, "boxinit.node: prefixLines: a bound is outside its array");
    return NULL;
  }
  while (from < to) {
    const uint8_t *newline = memchr(input + from, '\n', to - from);
    if (newline == NULL) break;
    size_t line = (size_t)(newline - (input + from)) + 1;
    if (line - 1 > max_line || prefix_length + line > out_end - out_at) break;
    memcpy(output + out_at, prefix, prefix_length);
    memcpy(output + out_at + prefix_length, input + from, line);
    out_at += (uint32_t)(prefix_length + line);
    from += (uint32_t)line;
  }
  int32_t *result = result_data;
  result[0] = (int32_t)from;
  result[1] = (int32_t)out_at;
  return NULL;
}

/*
 * growPipe(fd, bytes): fcntl(F_SETPIPE_SZ) on the pipe fd writes into
 * (boxinit's stdout, reopened): a relay that writes non-blocking into a
 * 64 KiB pipe waits for its reader every 64 KiB; a larger pipe lets a batch
 * go out in one write. Returns the new size, or -errno (EPERM above
 * /proc/sys/fs/pipe-max-size or the user's pipe quota: the caller keeps the
 * size it had).
 */
static napi_value grow_pipe(napi_env env, napi_callback_info info) {
  int32_t fd, bytes;
  if (!arg_int(env, info, 0, &fd) || !arg_int(env, info, 1, &bytes)) return NULL;
  int size = fcntl(fd, F_SETPIPE_SZ, bytes);
  return make_int(env, size < 0 ? -errno : size);
}

/* Adds prefixLines and growPipe to the addon's exports (called from boxinit.c's init). */
void register_relay(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"prefixLines", NULL, prefix_lines, NULL, NULL, NULL, napi_default, NULL},
    {"growPipe", NULL, grow_pipe, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
