import { compileGlobList } from '../../policy/glob.ts';
import { createSinkFormat } from './create-sink.ts';
import { exporterSecrets, type ExporterConfig } from './exporter-types.ts';
import { createRedactor, type Redactor } from './redactor.ts';
import type { SinkFormat } from './sink.ts';

/** An exporter ready to run: its config, wire format, type filter and redactor. */
export interface ExporterRuntime {
  readonly config: ExporterConfig;
  readonly format: SinkFormat;
  /** Whether an entry of this type is sent (entries that are not still move the cursor). */
  readonly wants: (type: string) => boolean;
  /** Removes the exporter's secrets from a text bound for a log or the cursor store. */
  readonly redact: Redactor;
}

/** Builds the runtime of one exporter. */
export function createExporterRuntime(config: ExporterConfig, host?: string): ExporterRuntime {
  const types = config.types ? compileGlobList(config.types) : undefined;
  return {
    config,
    format: createSinkFormat(config, host),
    wants: types ? (type) => types.test(type) : () => true,
    redact: createRedactor(exporterSecrets(config)),
  };
}
