// The policy author CLI: argument parsing, dispatch to the commands, and the exit codes.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isEngineError } from '../../engine/index.js';
import { AssertionFileError } from './assertion-file-error.js';
import { runCheckCommand } from './check-command.js';
import { defaultDatabaseUrl, runExplainCommand } from './explain-command.js';
import { processOutput, type Output } from './output.js';
import { runTestCommand } from './test-command.js';
import { jsonReport, junitReport, reporters } from './test-report.js';
import { UsageError } from './usage-error.js';

export const usage = `usage: npm run policy -- <command>

  check <model.conf>                   validate and compile a model file (errors name the line)
                                       and print how its decisions are computed
  test [paths...]                      run assertion files (default: policies/**/*.test.yaml)
                                       against plain casbin and the engine
      [--reporter junit|json]          also write the results as JUnit XML or JSON for CI
      [--output <file>]                to <file> (default: standard output, instead of the text)
  explain <values...>                  print the decision, the matching rules with their role
                                       links, and the rules that decided, for a request of the
                                       model's fields in order (e.g. sub dom obj act); a value
                                       starting with { is an attribute object in JSON
      [--model <model.conf>]           default: the --rules file's model, else policies/model.conf
      [--rules <file.test.yaml>]       decide over that file's rules instead of the live policy
                                       (the live policy is read from DATABASE_URL,
                                       default ${defaultDatabaseUrl})

Reads DATABASE_URL from the environment or .env, as the services do.

exit codes: 0 every case passed, 1 a failing case, an invalid model or file, an unreachable store, 64 usage`;

/** Exit code of a usage error (sysexits EX_USAGE). */
export const usageExitCode = 64;

function parse(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      options: { model: { type: 'string' }, rules: { type: 'string' }, reporter: { type: 'string' }, output: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function dispatch(args: readonly string[], output: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parse(args);
  const [command, ...rest] = positionals;
  if (values.help === true) {
    output.out(usage);
    return 0;
  }
  if ((values.model !== undefined || values.rules !== undefined) && command !== 'explain') {
    throw new UsageError('--model and --rules belong to explain');
  }
  if ((values.reporter !== undefined || values.output !== undefined) && command !== 'test') {
    throw new UsageError('--reporter and --output belong to test');
  }
  switch (command) {
    case 'check': {
      const [path, ...extra] = rest;
      if (path === undefined || extra.length > 0) throw new UsageError('check takes one model file');
      return runCheckCommand(path, output);
    }
    case 'test': {
      const reporter = values.reporter;
      if (reporter !== undefined && !(reporters as readonly string[]).includes(reporter)) throw new UsageError(`--reporter must be ${reporters.join(' or ')}`);
      if (values.output !== undefined && reporter === undefined) throw new UsageError('--output needs --reporter');
      if (reporter === undefined) return runTestCommand(rest, output);
      const format = reporter === 'junit' ? junitReport : jsonReport;
      const target = values.output;
      // Without --output the report is the standard output: the human text goes to standard error instead.
      const text: Output = target === undefined ? { out: (line) => output.err(line), err: (line) => output.err(line) } : output;
      return runTestCommand(rest, text, async (result) => {
        if (target === undefined) output.out(format(result).trimEnd());
        else await writeFile(target, format(result));
      });
    }
    case 'explain': {
      if (rest.length === 0) throw new UsageError("explain takes the request's values: sub dom obj act for the shipped model");
      return runExplainCommand(
        {
          values: rest,
          modelPath: values.model,
          rulesPath: values.rules,
          databaseUrl: env.DATABASE_URL ?? defaultDatabaseUrl,
        },
        output,
      );
    }
    case undefined:
      throw new UsageError('a command is required');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * Runs the CLI on `args` (without `node` and the script) and returns its exit code: 0 success, 1 a failure
 * (a failing case, an invalid model or file, an unreachable store), 64 a usage error.
 */
export async function runPolicyCli(args: readonly string[], output: Output = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await dispatch(args, output, env);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`error: ${error.message}`);
      output.err(usage);
      return usageExitCode;
    }
    if (isEngineError(error) || error instanceof AssertionFileError) {
      output.err(`error: ${error.detail}`);
      return 1;
    }
    output.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

