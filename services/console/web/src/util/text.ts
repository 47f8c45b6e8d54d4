// Texts the services word for the reader (`detail` beside its `detailText`).
import type { Text } from '@gen/suiji/types/v1/types_pb';

/** `''` (the attribute set) when a text the service sent is a person's own words or data, not a message of its
 *  catalogs — a reason as it was typed, the codes entered — else `undefined`. Bound to `data-user-text`, it tells a
 *  reader's tools (and the page sweep that looks for English on a Chinese page) which words no catalog translates. */
export function wordedByPerson(text?: Text): '' | undefined {
  return !text || (!text.code && text.parts.length === 0) ? '' : undefined;
}
