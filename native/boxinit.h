/* What the addon's C files share: the Node-API argument helpers of boxinit.c. */
#ifndef BOXINIT_H
#define BOXINIT_H
#include <node_api.h>
#include <stdint.h>

napi_value make_int(napi_env env, int64_t value);
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int arg_int(napi_env env, napi_callback_info info, size_t index, int32_t *out);

/* native/signal-intake.c: adds takeSignals, listenSignals, forwardSignals, stoppedBy, setParentDeathSignal. */
void register_signal_intake(napi_env env, napi_value exports);
#endif
