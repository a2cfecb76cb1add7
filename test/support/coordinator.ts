/** What a shutdown coordinator is asked to do, recorded; closeAll() runs closers by order. */
export class RecordingCoordinator {
  readonly registered: { name: string; phase: string; order: number; close(): Promise<void> }[] =
    [];
  unregistered = 0;
  closeAllCalls = 0;

  register(entry: { name: string; phase: string; order: number; close(): Promise<void> }) {
    this.registered.push(entry);
    return () => {
      this.unregistered += 1;
    };
  }

  async closeAll(): Promise<void> {
    this.closeAllCalls += 1;
    for (const entry of [...this.registered].sort((a, b) => a.order - b.order)) {
      await entry.close();
    }
  }
}
