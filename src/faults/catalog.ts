/**
 * The fault catalog, for the code on this side of the protocol (injector, scenario steps, CLI).
 * It lives in src/protocol/fault-catalog: the webview and the protocol check use it too, and they
 * may only import the protocol layer.
 */
export * from '../protocol/fault-catalog';
