import { parseArgs } from 'node:util';

/** Where a CLI writes: standard output for results, standard error for problems. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** A wrong invocation: the CLI prints the message and its usage and exits 64. */
export class UsageError extends Error {}

/**
 * Reads `[--help] <command>` for a CLI of one command among `commands`: `help` when asked for, else the command.
 * Anything else (an unknown option or command, a missing command, an extra argument) is a UsageError.
 */
export function parseCommand<C extends string>(args: readonly string[], commands: readonly C[]): { readonly help: true } | { readonly help: false; readonly command: C } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help === true) return { help: true };
  const [command, ...extra] = parsed.positionals;
  if (command === undefined) throw new UsageError('a command is required');
  if (!(commands as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return { help: false, command: command as C };
}
