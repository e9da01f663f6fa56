// Intentionally empty: this package's API lands with its own issue (see the README).
export {};
