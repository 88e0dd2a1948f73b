// Runs a corpus of state machines on the npm package aws-local-stepfunctions, the differential oracle of
// AwsLocalStepFunctionsDifferentialTests. Reads [{name, definition, input}] from the file named by argv[2] and prints
// [{name, status: "SUCCEEDED", output} | {name, status: "FAILED", error, cause} | {name, status: "INVALID", message}].
// Every Retry pause is overridden to 0 ms, so a retrier never sleeps; Wait states in the corpus wait 0 s anyway.
'use strict';
const fs = require('fs');
const { StateMachine, ExecutionError } = require('aws-local-stepfunctions');

function statesWithRetry(states, found) {
  for (const [name, state] of Object.entries(states)) {
    if (Array.isArray(state.Retry)) found[name] = 0;
    for (const branch of state.Branches || []) statesWithRetry(branch.States, found);
    const processor = state.ItemProcessor || state.Iterator;
    if (processor) statesWithRetry(processor.States, found);
  }
  return found;
}

async function runOne({ name, definition, input }) {
  let machine;
  try {
    // Its schema check (asl-validator, compiled again per machine) costs ~0.5 s a machine; the engine side validates.
    machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
  } catch (e) {
    return { name, status: 'INVALID', message: String(e && e.message) };
  }
  try {
    const execution = machine.run(input, { overrides: { retryIntervalOverrides: statesWithRetry(definition.States, {}) } });
    return { name, status: 'SUCCEEDED', output: await execution.result };
  } catch (e) {
    const inner = e instanceof ExecutionError ? e.cause : e;
    return { name, status: 'FAILED', error: String(inner && inner.name), cause: String(inner && inner.message) };
  }
}

(async () => {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const results = [];
  for (const c of cases) results.push(await runOne(c));
  process.stdout.write(JSON.stringify(results));
})().catch((e) => {
  process.stderr.write(String(e && e.stack));
  process.exit(1);
});
