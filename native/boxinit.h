/* What the addon's C files share: the Node-API argument helpers of boxinit.c. */
#ifndef BOXINIT_H
#define BOXINIT_H
#include <node_api.h>
#include <stdint.h>

napi_value make_int(napi_env env, int64_t value);
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int arg_int(napi_env env, napi_callback_info info, size_t index, int32_t *out);
char *string_from_js(napi_env env, napi_value value);

/* native/fork-exec.c: boxinit's argv bytes, the last `count` entries of /proc/self/cmdline (0: all). */
char **argv_from_cmdline(uint32_t count, char **buffer_out);
/* native/fork-exec.c: adds forkExec, setChildDeathSignal. */
void register_fork_exec(napi_env env, napi_value exports);
/* native/relay.c: prefixLines (the output relay's line loop) and growPipe. */
void register_relay(napi_env env, napi_value exports);
/* native/signal-intake.c: adds takeSignals, listenSignals, forwardSignals, stoppedBy, setParentDeathSignal. */
void register_signal_intake(napi_env env, napi_value exports);
/* native/dir-watch.c: adds watchDir, closeDirWatch. */
void register_dir_watch(napi_env env, napi_value exports);
#endif
