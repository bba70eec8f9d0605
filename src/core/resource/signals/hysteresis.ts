/** One input to an on/off decision: on at `enter`, held on until it falls below `leave`. */
export interface GateSignal {
  name: string;
  /** Absent where the figure is not available (e.g. no PSI); such signals never hold the gate. */
  value: number | undefined;
  enter: number;
  leave: number;
}

/**
 * A Schmitt trigger over several signals: turns on when any signal reaches its enter level and off
 * only when every signal is below its (lower) leave level, so a figure hovering at a threshold does
 * not flap.
 */
export class HysteresisGate {
  private on = false;

  get isOn(): boolean {
    return this.on;
  }

  /** Updates the state and returns the names of the signals that hold it on (empty when off). */
  update(signals: readonly GateSignal[]): string[] {
    const holding = signals.filter((s) => s.value !== undefined && s.value >= (this.on ? s.leave : s.enter));
    this.on = holding.length > 0;
    return holding.map((s) => s.name);
  }
}
