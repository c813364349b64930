/**
 * The byte format of every message that crosses a socket or pipe: a subset
 * of MessagePack, described in `wire_format.ts`, written by
 * `wire_writer.ts` (packed by `wire_pack.ts`, in room from `wire_room.ts`)
 * and read by `wire_reader.ts`. Import it from here (only
 * `bytes_codec.ts`, which writes and reads the codec's values in one walk,
 * uses the writer's and the reader's parts directly).
 *
 * @module
 */

export { EXT_UTF16, MAX_WIRE_DEPTH } from "./wire_format.ts";
export { giveBack, pack, packValueString, packWith } from "./wire_pack.ts";
export { placeResults } from "./wire_room.ts";
export type { WireWriter } from "./wire_writer.ts";
export { unpack } from "./wire_reader.ts";
