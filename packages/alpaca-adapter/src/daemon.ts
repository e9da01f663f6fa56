// Entry for the daemon's `--adapter @wsproxy/alpaca-adapter/daemon`: the default export is the adapter factory, its
// drop-in endpoint configured from the daemon's environment (WSPROXY_ALPACA_DATA_URL, endpoint keys).
import { createAlpacaAdapter } from './daemon-adapter.js';
import { alpacaEndpointOptionsFromEnv } from './endpoint.js';

// Also the adapter and endpoint API itself: all these two modules export (the main entry lists the same names).
export * from './daemon-adapter.js';
export * from './endpoint.js';
export default createAlpacaAdapter({ endpoint: alpacaEndpointOptionsFromEnv() });
