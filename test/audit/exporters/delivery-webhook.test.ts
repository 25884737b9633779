import { describeSinkDelivery } from './helpers/describe-sink-delivery.ts';
import { SINK_CASES } from './helpers/sink-cases.ts';

describeSinkDelivery(SINK_CASES.find((c) => c.type === 'webhook')!);
