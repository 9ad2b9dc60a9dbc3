/**
 * @veritensor/sdk: request verifiable inferences on Veritensor from a TypeScript or JavaScript
 * backend, with ethers v6 (any Signer or Provider) and nothing else.
 */
export { Veritensor } from "./client.js";
export type {
  BatchRequest,
  ConnectOptions,
  FeeQuote,
  InferenceRequest,
  JobInfo,
  JobOutput,
  JobResult,
  ModelInfo,
  RequestReceipt,
  TensorInput,
  WaitOptions,
} from "./client.js";
export { ContractRevertError, JobFailedError, NetworkError, TimeoutError, VeritensorError, ensure, scrubHex } from "./errors.js";
export type { VeritensorErrorCode, VeritensorErrorOptions } from "./errors.js";
export { FUTURE_IDS, addressBook, addressesFromIgnition, checkAddresses, officialDeployment, readDeploymentFile } from "./deployment.js";
export type { AddressBookEntry, ProtocolAddresses } from "./deployment.js";
export { codeOfError, describeProtocolError, formatVtn, jobStatusName, parseRevert, revertData, toVeritensorError } from "./revert.js";
export { argmax, decodeTensor, dequantize, encodeTensor, splitItems } from "./tensors.js";
export { FINAL_EVENTS, JOB_EVENTS, jobEvents } from "./watch.js";
export type { JobEvent, JobEventType, WatchOptions } from "./watch.js";
export { JOB_MANAGER_ABI, MODEL_REGISTRY_ABI, PROTOCOL_ERRORS_ABI, TOKEN_ABI } from "./abi.js";
