// What SAM needs to know of the requests a unit's instances serve, from whoever routes them (the
// gateway, src/gateway/): how many are in flight (the autoscaler's target_in_flight) and how to
// drain an instance before it is scaled away. Sam.useTraffic plugs one in.

export interface UnitTraffic {
  /** Requests in flight to instance `instance` of unit `unit` now. */
  inFlight(unit: string, instance: number): number
  /**
   * Send instance `instance` of `unit` no new request and resolve once none is in flight. SAM
   * stops the instance afterwards, or after the unit's stop grace period if this takes longer.
   */
  drain(unit: string, instance: number): Promise<void>
}
