// Suite `codec`: @wsproxy/protocol's data-record codec on a 100-byte payload — every message a client receives is
// decoded once, so this rate bounds a reader. Measured in a fresh agent process per session.
import { Agent } from '../harness/agent-pool.js';
import type { Suite } from '../harness/suite.js';
import { type CodecRates, loadProtocolCodec, PAYLOAD_BYTES } from './codec-roles.js';

const SUITE = 'codec';

export const codecSuite: Suite = {
  name: SUITE,
  measures:
    `encode / decode rate of one data record with a ${PAYLOAD_BYTES}-byte payload and 3 recipients ` +
    '(encode into a reused buffer; decode into a reused RingRecord, the reader loop; decode into a new object; the ' +
    'allocation-free "is this record for me" skip test)',
  async unavailable() {
    const codec = await loadProtocolCodec();
    return typeof codec === 'string' ? codec : undefined;
  },
  async run(ctx) {
    const agent = await Agent.spawn({ label: 'codec agent' });
    const samples: CodecRates[] = [];
    try {
      for (let i = 0; i < ctx.params.warmup + ctx.params.runs; i++) {
        const rates = await agent.call<CodecRates>(
          'codec',
          'codecRates',
          { ms: ctx.params.microMs },
          120_000,
        );
        if (i >= ctx.params.warmup) samples.push(rates);
      }
    } finally {
      await agent.close();
    }
    const caseName = `data record, ${PAYLOAD_BYTES}-byte payload (${samples[0]?.recordBytes ?? '?'} bytes encoded)`;
    const row = (metric: string, pick: (r: CodecRates) => number, target?: 'codec.decode') =>
      ctx.rec.add({
        suite: SUITE,
        case: caseName,
        subject: '@wsproxy/protocol',
        metric,
        unit: 'msg/s',
        better: 'higher',
        samples: samples.map(pick),
        ...(target ? { target } : {}),
      });
    row('encodeDataRecordInto', (r) => r.encode);
    row('decodeRingRecordInto (reused record)', (r) => r.decodeInto, 'codec.decode');
    row('decodeRingRecord (new record)', (r) => r.decodeNew);
    row('ringRecordIsFor (skip test)', (r) => r.isFor);
  },
};
