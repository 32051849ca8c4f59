// The bridge's public entry (`cliffracer/bridge`): run it in-process or configure it from code.
export { createBridge, type Bridge, type BridgeOptions, type BridgeStatus } from "./bridge";
export { bridgeConfigFromObject, loadBridgeConfig, type BridgeConfig, type BridgeFlags } from "./config";
