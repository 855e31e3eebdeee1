/** One instruction of a Dockerfile, with line continuations joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** A build stage: `FROM base AS name` and the instructions up to the next FROM. */
export interface Stage {
  name: string | undefined;
  base: string;
  instructions: Instruction[];
}

/**
 * Parses a Dockerfile into its global ARGs and stages. Comments, parser
 * directives and blank lines are skipped. Heredocs are not supported.
 */
export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === undefined && (line === '' || line.startsWith('#'))) {
      return;
    }
    if (pending !== undefined && line.startsWith('#')) {
      return;
    }
    const continued = line.endsWith('\\');
    const content = continued ? line.slice(0, -1).trim() : line;
    pending =
      pending === undefined
        ? { text: content, line: index + 1 }
        : { ...pending, text: `${pending.text} ${content}` };
    if (!continued) {
      const [keyword = '', ...rest] = pending.text.split(/\s+/);
      instructions.push({
        keyword: keyword.toUpperCase(),
        args: rest.join(' '),
        line: pending.line,
      });
      pending = undefined;
    }
  });

  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (match === null) {
        throw new Error(`line ${instruction.line}: cannot parse FROM ${instruction.args}`);
      }
      stages.push({ base: match[1] ?? '', name: match[2], instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (current === undefined) {
      if (instruction.keyword !== 'ARG') {
        throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      }
      args.push(instruction);
    } else {
      current.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** Returns the stage named `name` followed by the stages it is built FROM, nearest first. */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let stage = stages.find((candidate) => candidate.name === name);
  while (stage !== undefined && !chain.includes(stage)) {
    chain.push(stage);
    const base = stage.base;
    stage = stages.find((candidate) => candidate.name === base);
  }
  return chain;
}

/** Returns the last value of an instruction along a stage chain, as Docker inherits USER and CMD. */
export function inherited(chain: Stage[], keyword: string): string | undefined {
  for (const stage of chain) {
    const last = stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
    if (last !== undefined) {
      return last.args;
    }
  }
  return undefined;
}
