/**
 * The two gRPC request headers of our writer extension (docs/esdb-compatibility.md, "Our extension:
 * writer headers"), named once for the adapter that sends them and the server that honours them.
 * EventStoreDB ignores headers it does not know.
 */

/** On a BatchAppend or Append call: who appends (`AppendOptions.writer`). A header belongs to a call, so each writer has its own. */
export const WRITER_HEADER = 'cadenza-writer';

/** On a `$all` subscription: leave out the appends of this writer (`SubscribeToAllOptions.excludeWriter`). */
export const EXCLUDE_WRITER_HEADER = 'cadenza-exclude-writer';
