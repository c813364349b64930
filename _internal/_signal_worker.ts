/**
 * The helper thread that removes the private folder when a signal ends the
 * process (see `removeTreeOnSignal` in `runtime.ts`).
 *
 * @module
 */

import { helperThreadContext, watchTerminatingSignals } from "./runtime.ts";

const { data, postMessage } = await helperThreadContext();
watchTerminatingSignals(data as string);
postMessage("watching");
