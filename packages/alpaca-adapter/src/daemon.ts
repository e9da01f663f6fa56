// Entry for the daemon's `--adapter @wsproxy/alpaca-adapter/daemon`: the default export is the adapter factory.
import { alpacaAdapter } from './daemon-adapter.js';

export {
  type AlpacaAdapterOptions,
  alpacaAdapter,
  createAlpacaAdapter,
  restBaseUrlFor,
} from './daemon-adapter.js';
export default alpacaAdapter;
