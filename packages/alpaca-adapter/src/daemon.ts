// Entry for the daemon's `--adapter @wsproxy/alpaca-adapter/daemon`: the default export is the adapter factory, its
// drop-in endpoint configured from the daemon's environment (WSPROXY_ALPACA_DATA_URL, endpoint keys).
import { createAlpacaAdapter } from './daemon-adapter.js';
import { alpacaEndpointOptionsFromEnv } from './endpoint.js';

export {
  type AlpacaAdapterOptions,
  alpacaAdapter,
  createAlpacaAdapter,
  restBaseUrlFor,
} from './daemon-adapter.js';
export {
  type AlpacaEndpointOptions,
  alpacaEndpointOptionsFromEnv,
  alpacaPathFor,
  createAlpacaEndpoint,
} from './endpoint.js';
export default createAlpacaAdapter({ endpoint: alpacaEndpointOptionsFromEnv() });
