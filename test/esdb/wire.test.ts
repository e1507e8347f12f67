/** The direct ReadResp encoder must produce what google-protobuf produces (as decoded messages). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeReadEvent } from '../../src/esdb-server/convert.js';
import { streamsPb } from '../../src/esdb-server/proto.js';
import { encodeReadEventBytes } from '../../src/esdb-server/wire.js';
import type { Json, RecordedEvent } from '../../src/store/port.js';

const json = fc.jsonValue() as fc.Arbitrary<Json>;
const recordedEvent: fc.Arbitrary<RecordedEvent> = fc.record({
  id: fc.uuid(),
  type: fc.string({ minLength: 1 }),
  data: json,
  metadata: fc.dictionary(fc.string(), json),
  stream: fc.string({ minLength: 1 }),
  revision: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
  position: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).chain((commit) =>
    fc.bigInt({ min: 0n, max: commit }).map((prepare) => ({ commit, prepare }))),
  created: fc.date({ min: new Date(0), max: new Date(8.64e14), noInvalidDate: true }),
});

describe('direct ReadResp encoding', () => {
  it('decodes to the same message as google-protobuf encodes', () => {
    fc.assert(fc.property(recordedEvent, (event) => {
      const direct = streamsPb.ReadResp.deserializeBinary(encodeReadEventBytes(event)).toObject();
      const reference = streamsPb.ReadResp.deserializeBinary(encodeReadEvent(event, false).serializeBinary()).toObject();
      const sortMap = (value: typeof direct) => {
        value.event?.event?.metadataMap.sort(([a], [b]) => a.localeCompare(b));
        return value;
      };
      expect(sortMap(direct)).toEqual(sortMap(reference));
    }), { numRuns: 200 });
  });
});
