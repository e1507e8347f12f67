/**
 * A typed builder for definitions written in code (sagas/): the same data as the JSON format,
 * checked by `validateDefinition` when built.
 *
 *   workflow('trading-pipeline').version(1).step({ id: 'market-data', ... }).build()
 */
import type { FailureStrategy, StepDefinitionInput, WorkflowDefinition, WorkflowDefinitionInput } from './definition.js';
import type { JsonObject } from './json.js';
import { validateDefinition } from './validate.js';

export class WorkflowBuilder {
  private readonly steps: StepDefinitionInput[] = [];
  private readonly fields: Omit<WorkflowDefinitionInput, 'steps'>;

  constructor(name: string) {
    this.fields = { name };
  }

  version(version: number): this {
    return this.set({ version });
  }

  description(description: string): this {
    return this.set({ description });
  }

  initialData(initialData: JsonObject): this {
    return this.set({ initialData });
  }

  /** Dotted paths the start input must contain. */
  requireInput(...required: string[]): this {
    return this.set({ input: { required } });
  }

  onFailure(failureStrategy: FailureStrategy): this {
    return this.set({ failureStrategy });
  }

  limits(limits: { maxParallelSteps?: number }): this {
    return this.set({ limits });
  }

  step(step: StepDefinitionInput): this {
    this.steps.push(step);
    return this;
  }

  /** The validated definition; throws `DefinitionError` naming each bad step and field. */
  build(): WorkflowDefinition {
    return validateDefinition({ ...this.fields, steps: this.steps });
  }

  private set(fields: Partial<Omit<WorkflowDefinitionInput, 'steps'>>): this {
    Object.assign(this.fields, fields);
    return this;
  }
}

export function workflow(name: string): WorkflowBuilder {
  return new WorkflowBuilder(name);
}
