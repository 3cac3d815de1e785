/**
 * On the first SIGTERM or SIGINT, runs `stop` (drain, close pools) and exits 0, or 1 when it fails or outlasts
 * `hardLimitMs`; a second signal does not cut the drain short (orchestrators often send two).
 */
export function exitOnSignal(stop: () => Promise<void>, hardLimitMs = 20_000): void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), hardLimitMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
