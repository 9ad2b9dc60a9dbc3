/**
 * Registered models, loaded once per node: the registry's record gives URI, content hash and graph
 * commitment; the file is fetched (fetch.ts), parsed as canonical/1, and its graph commitment must
 * match too, so the node runs exactly the model that disputes will be judged against.
 */
import type { ModelRecord, Protocol } from "../../clients/index.js";
import { checkModelBytes, getModel } from "../../clients/models.js";
import type { CanonicalModel } from "../../model/canonical.js";
import type { FetchOptions, ModelOrigin } from "./fetch.js";
import { fetchModel } from "./fetch.js";

export interface LoadedModel {
  readonly modelId: bigint;
  readonly model: CanonicalModel;
  readonly record: ModelRecord;
  readonly origin: ModelOrigin;
}

export class ModelSource {
  private readonly loaded = new Map<bigint, Promise<LoadedModel>>();
  readonly p: Protocol;
  readonly options: FetchOptions;
  private readonly onLoad?: (m: LoadedModel, url: string) => void;

  constructor(p: Protocol, options: FetchOptions, onLoad?: (m: LoadedModel, url: string) => void) {
    this.p = p;
    this.options = options;
    this.onLoad = onLoad;
  }

  get(modelId: bigint): Promise<LoadedModel> {
    let m = this.loaded.get(modelId);
    if (!m) {
      m = this.load(modelId);
      this.loaded.set(modelId, m);
      m.catch(() => this.loaded.delete(modelId));
    }
    return m;
  }

  private async load(modelId: bigint): Promise<LoadedModel> {
    const record = await getModel(this.p, modelId);
    const fetched = await fetchModel(record.uri, record.contentHash, this.options);
    const model = checkModelBytes(modelId, record, fetched.bytes, record.uri);
    const loaded = { modelId, model, record, origin: fetched.origin };
    this.onLoad?.(loaded, fetched.url);
    return loaded;
  }
}
