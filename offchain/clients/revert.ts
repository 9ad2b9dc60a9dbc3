/**
 * Turns a failed call into a sentence. Custom errors are decoded against every protocol ABI
 * (a revert bubbles up from the token, the registry or the staking contract through the job
 * escrow), then phrased with their numbers: amounts in VTN, times in UTC, contracts by name.
 */
import type { ErrorDescription } from "ethers";
import { Interface } from "ethers";

import {
  AuditManager__factory,
  DigitOracle__factory,
  DisputeGameFactory__factory,
  DisputeGame__factory,
  JobManager__factory,
  ModelRegistry__factory,
  OneStepVerifier__factory,
  ProtocolTimelock__factory,
  SignalFeed__factory,
  Staking__factory,
  RedundantRequests__factory,
  SubscriptionManager__factory,
  VeritensorGovernor__factory,
  VeritensorToken__factory,
  WorkerRoster__factory,
} from "../../types/ethers-contracts/index.js";
import { codeOfError, jobStatusName, revertData } from "../../packages/sdk/src/revert.js";
import type { VeritensorErrorCode } from "./errors.js";
import { VeritensorError } from "./errors.js";
import { formatTime, formatVtn } from "./format.js";
import type { Level, StepPhase } from "./game-types.js";
import { LEVEL_NAMES, STEP_PHASE_NAMES } from "./game-types.js";

type Fragment = { type: string; name?: string; inputs?: readonly { type: string }[] };

/** One interface holding every error the protocol's contracts can revert with. */
export const PROTOCOL_ERRORS: Interface = (() => {
  const seen = new Set<string>();
  const errors: Fragment[] = [];
  const abis = [
    JobManager__factory.abi,
    ModelRegistry__factory.abi,
    Staking__factory.abi,
    VeritensorToken__factory.abi,
    ProtocolTimelock__factory.abi,
    VeritensorGovernor__factory.abi,
    DigitOracle__factory.abi,
    DisputeGameFactory__factory.abi,
    DisputeGame__factory.abi,
    OneStepVerifier__factory.abi,
    SubscriptionManager__factory.abi,
    RedundantRequests__factory.abi,
    SignalFeed__factory.abi,
    WorkerRoster__factory.abi,
    AuditManager__factory.abi,
  ] as readonly (readonly Fragment[])[];
  for (const abi of abis) {
    for (const f of abi) {
      if (f.type !== "error") continue;
      const key = `${f.name}(${(f.inputs ?? []).map((i) => i.type).join(",")})`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(f);
      }
    }
  }
  return new Interface(errors as never);
})();

/** What the messages need to know about the surroundings. */
export interface RevertContext {
  /** Known addresses (lower case) -> a name, e.g. the job escrow's address -> "the job escrow". */
  readonly names?: ReadonlyMap<string, string>;
  /** Chain time, for relative times. */
  readonly now?: bigint;
}

export { jobStatusName, revertData };

/** Side and Level of contracts/disputes/lib/Types.sol, as words. */
const SIDES = ["the defender (the worker)", "the challenger"];

const side = (v: unknown): string => SIDES[Number(v)] ?? `side ${v}`;
const level = (v: unknown): string => `the ${LEVEL_NAMES[Number(v) as Level] ?? `#${v}`} level`;

type Phrase = (a: readonly unknown[], c: Required<RevertContext>) => string;

const vtn = (v: unknown): string => formatVtn(BigInt(v as bigint));
const when = (v: unknown, c: Required<RevertContext>): string => formatTime(BigInt(v as bigint), c.now === 0n ? undefined : c.now);
const who = (v: unknown, c: Required<RevertContext>): string => {
  const a = String(v);
  const name = c.names.get(a.toLowerCase());
  return name ? `${name} (${a})` : a;
};

const PHRASES: Record<string, Phrase> = {
  // registry
  ModelRegistryUnknownModel: ([id]) => `unknown model ${id}: no model is registered with that id`,
  ModelRegistryNotModelOwner: ([id, caller], c) => `${who(caller, c)} is not the owner of model ${id}`,
  ModelRegistryInvalidSplit: ([total]) =>
    `the revenue split adds up to ${total} basis points; the developer's share and the contributors' must add up to 10000`,
  ModelRegistryTooManyContributors: ([count, max]) => `${count} contributors given; a model may have at most ${max}`,
  ModelRegistryInvalidContributor: ([i]) => `contributor #${Number(i) + 1} has the zero address or a zero share`,
  ModelRegistryInvalidCommitment: () => "the content hash, the graph commitment and the URI must all be non-empty",
  ModelRegistryInvalidShape: () => "a shape is empty, has a zero dimension, or has more than 2^32 elements",
  ModelRegistryInvalidScale: ([i, o]) => `a scale is zero (input ${i}, output ${o} in 18-decimal fixed point): every canonical/1 scale is positive`,
  ModelRegistryModelDeprecated: ([id]) => `model ${id} is deprecated`,
  ModelRegistryNotLatestVersion: ([id, latest]) => `model ${id} is not the latest version of its family (${latest} is)`,
  ModelRegistryInvalidOwner: () => "the new owner is the zero address",
  // staking
  StakingZeroAmount: () => "the amount must be greater than zero",
  StakingInsufficientFreeStake: ([staker, available, needed], c) =>
    `${who(staker, c)} has ${vtn(available)} of free stake, ${vtn(needed)} is needed (stake more with \`stake add\`)`,
  StakingBelowMinimum: ([staker, staked, min], c) =>
    `${who(staker, c)} has ${vtn(staked)} staked, below the minimum stake of ${vtn(min)} (stake more with \`stake add\`)`,
  StakingNothingToWithdraw: ([staker], c) => `${who(staker, c)} has nothing unbonding (request it with \`stake unstake\` first)`,
  StakingStillUnbonding: ([staker, end], c) => `the stake of ${who(staker, c)} is unbonding until ${when(end, c)}`,
  StakingNotOperator: ([caller], c) => `${who(caller, c)} is not a staking operator`,
  StakingInsufficientLocked: ([staker, locked, amount], c) =>
    `${who(staker, c)} has only ${vtn(locked)} locked, below ${vtn(amount)}`,
  StakingInvalidParameter: ([name]) => `staking parameter ${name} is out of its allowed range`,
  StakingOperatorsSealed: () => "the staking operators were fixed at deployment: none can be added or removed",
  // worker roster
  WorkerRosterNotServing: ([worker, id], c) => `${who(worker, c)} does not serve model ${id} (declare it with \`npx hardhat stake serve --models ${id}\`), so it cannot join its roster`,
  WorkerRosterInsufficientStake: ([worker, staked, min], c) =>
    `${who(worker, c)} has ${vtn(staked)} staked, below the minimum of ${vtn(min)}: its weight in the roster would be zero`,
  WorkerRosterFull: ([id]) => `model ${id}'s roster has no free position (positions of members whose weight is zero can be reclaimed)`,
  WorkerRosterNotMember: ([worker, id], c) => `${who(worker, c)} is not in model ${id}'s roster (join it first)`,
  WorkerRosterPositionInUse: ([worker, current, next], c) =>
    `${who(worker, c)} still has weight in the roster (${vtn(current)} now, ${vtn(next)} from the next epoch): its position is in use`,
  WorkerRosterInvalidParameter: ([name]) => `roster parameter ${name} is out of its allowed range`,
  WorkerRosterNotAssigned: ([id, claimer, drawn, end], c) =>
    BigInt(drawn as string) === 0n
      ? `job ${id} is not drawn yet (its seed block is not mined): ${who(claimer, c)} may not claim it before its slot (the first ends at block ${end})`
      : `job ${id} is assigned to another worker, ${who(drawn, c)}, until block ${end}: ${who(claimer, c)} may not claim it now`,
  WorkerRosterNotEscrow: ([caller], c) => `${who(caller, c)} is not the job escrow: only it checks claims against the roster`,
  WorkerRosterEscrowBound: ([escrow], c) => `the roster is already bound to the job escrow ${who(escrow, c)}`,
  // audits
  AuditManagerInvalidParameter: ([name]) => `audit parameter ${name} is out of its allowed range`,
  AuditManagerEscrowBound: ([escrow], c) => `the audit manager is already bound to the job escrow ${who(escrow, c)}`,
  AuditManagerNotBound: () => "the audit manager is not bound to a job escrow yet",
  AuditManagerWrongJobStatus: ([id, status]) => `job ${id} is ${jobStatusName(status as bigint)}, which does not allow this audit step`,
  AuditManagerResultMismatch: ([id]) => `the terms and output commitment given are not the result submitted for job ${id}`,
  AuditManagerWindowClosed: ([id, end], c) => `the challenge window of job ${id}, which bounds its audit, closed at ${when(end, c)}`,
  AuditManagerNotAudited: ([id]) => `job ${id} is not audited (or its seed block, the one after its submission, is not mined yet, or its hash is no longer readable)`,
  AuditManagerSlotsOver: ([id]) => `every audit slot of job ${id} has passed`,
  AuditManagerSlotsNotOver: ([id, last]) => `the audit slots of job ${id} have not all passed: the last ends at block ${last}`,
  AuditManagerNotAuditor: ([id, caller, drawn, end], c) =>
    BigInt(drawn as string) === 0n
      ? `${who(caller, c)} may not audit job ${id} now: no auditor is drawn for the current slot (until block ${end})`
      : `job ${id}'s audit is drawn for ${who(drawn, c)} until block ${end}, not for ${who(caller, c)}`,
  AuditManagerAlreadyCommitted: ([id, auditor], c) => `job ${id}'s audit already has a commitment, by ${who(auditor, c)}, or is over`,
  AuditManagerNotCommitted: ([id, caller], c) => `${who(caller, c)} has no committed, unrevealed audit of job ${id}`,
  AuditManagerRevealTooEarly: ([id, block]) => `the audit of job ${id} was committed in block ${block}: it can be revealed from the next block on`,
  AuditManagerCommitmentMismatch: ([id]) =>
    `the reveal does not open the audit commitment of job ${id} (a wrong output or salt, or an output that differs from the worker's: reveal it as a mismatch)`,
  AuditManagerOutputsAgree: ([id]) => `the output revealed for job ${id} is the worker's: reveal it as an agreement (revealAudit), not a mismatch`,
  AuditManagerClaimMismatch: ([id, leaf, output]) => `the dispute's output leaf ${leaf} is not the revealed audit output ${output} of job ${id}`,
  AuditManagerNothingToSettle: ([id]) => `job ${id}'s audit has nothing (more) to settle`,
  AuditManagerZeroAmount: () => "the amount must be greater than zero",
  // jobs
  JobManagerUnknownJob: ([id]) => `unknown job ${id}: no job has that id`,
  JobManagerWrongStatus: ([id, status]) => `job ${id} is ${jobStatusName(status as bigint)}, which does not allow this`,
  JobManagerPaused: () => "new jobs are paused by governance",
  JobManagerModelDeprecated: ([id]) => `model ${id} is deprecated and takes no new jobs`,
  JobManagerInsufficientFee: ([fee, min]) =>
    `fee ${vtn(fee)} is below the minimum ${vtn(min)} (what is left after the protocol fee must cover the model price)`,
  JobManagerInvalidDeadline: ([deadline, latest], c) =>
    `deadline ${when(deadline, c)} is in the past or later than the latest allowed, ${when(latest, c)}`,
  JobManagerInvalidInput: () => "give either an inline input or an input URI with its commitment, not both and not neither",
  JobManagerInputSizeMismatch: ([expected, got]) =>
    `the input has ${Number(got) / 4} elements (${got} bytes); the model takes ${Number(expected) / 4}`,
  JobManagerInputCommitmentMismatch: ([given, computed]) => `input commitment ${given} does not match the input (${computed})`,
  JobManagerInvalidCallback: ([limit, max]) =>
    `callback gas limit ${limit} is invalid: at most ${max}, and only with a consumer contract`,
  JobManagerDeadlinePassed: ([id, deadline], c) => `the deadline of job ${id} passed at ${when(deadline, c)}`,
  JobManagerNotWorker: ([id, caller], c) => `${who(caller, c)} is not the worker that claimed job ${id}`,
  JobManagerResultOverdue: ([id, due], c) => `the result of job ${id} was due at ${when(due, c)}`,
  JobManagerOutputCommitmentMismatch: ([given, computed]) => `output commitment ${given} does not match the output (${computed})`,
  JobManagerOutputMismatch: ([id, computed]) =>
    `the output given (commitment ${computed}) is not the result submitted for job ${id}: pass the output of its ResultSubmitted, with its terms`,
  JobManagerUseFinalizeWithCallback: ([id]) =>
    `job ${id} has a consumer: finalize it with finalizeWithCallback and its output bytes (the escrow keeps no output)`,
  JobsInvalidTrace: () => "the trace root must not be zero",
  JobManagerChallengeWindowOpen: ([id, end], c) =>
    `the challenge window of job ${id} is still open: it ends at ${when(end, c)}; finalize after that`,
  JobManagerChallengeWindowClosed: ([id, end], c) => `the challenge window of job ${id} closed at ${when(end, c)}`,
  JobManagerUnderDispute: ([id, n]) => `job ${id} has ${n} open dispute(s); it finalizes once they are settled`,
  JobManagerDisputeCount: ([id, n]) => `job ${id} has ${n} open disputes`,
  JobManagerNotExpired: ([id, t], c) => `job ${id} has not expired: nothing to enforce before ${when(t, c)}`,
  JobManagerNotRequester: ([id, caller], c) => `${who(caller, c)} did not request job ${id}: only its requester may cancel it`,
  JobManagerConsumerHasNoCode: ([consumer], c) => `${who(consumer, c)} has no code: a consumer must be a contract that receives the callback`,
  JobManagerConsumerNotApproved: ([consumer, requester], c) =>
    `${who(consumer, c)} has not approved ${who(requester, c)}: a job's consumer is the contract that requests it, or one that approved the requester (setRequesterApproval)`,
  JobManagerNoFailedCallback: ([id, caller], c) => `job ${id} has no failed callback that ${who(caller, c)} may retry (only its consumer retries, after a failure)`,
  JobManagerNotDisputeManager: ([caller], c) =>
    `${who(caller, c)} is not the dispute manager of this job (a job is disputed only through the manager of the parameters it was requested under)`,
  JobManagerUnknownParamsVersion: ([v]) => `the job escrow has no parameter version ${v}`,
  JobManagerInsufficientGasForCallback: ([needed, available]) =>
    `finalizing needs at least ${needed} gas for the consumer's callback, ${available} was left: raise the gas limit`,
  PullPaymentsNothingToWithdraw: ([account], c) => `${who(account, c)} has no balance to withdraw from this contract`,
  JobManagerNothingToDistribute: ([id]) => `model ${id} has no accrued earnings to distribute`,
  JobManagerInvalidParameter: ([name]) => `job parameter ${name} is out of its allowed range`,
  // token (OpenZeppelin ERC-6093)
  ERC20InsufficientBalance: ([sender, balance, needed], c) =>
    `token balance too low: ${who(sender, c)} has ${vtn(balance)}, ${vtn(needed)} is needed`,
  ERC20InsufficientAllowance: ([spender, allowance, needed], c) =>
    `allowance too low: ${who(spender, c)} may spend ${vtn(allowance)} of your VTN, ${vtn(needed)} is needed (approve it first)`,
  ERC20InvalidReceiver: ([r], c) => `invalid token receiver ${who(r, c)}`,
  ERC20InvalidSender: ([s], c) => `invalid token sender ${who(s, c)}`,
  ERC20InvalidSpender: ([s], c) => `invalid spender ${who(s, c)}`,
  ERC20InvalidApprover: ([s], c) => `invalid approver ${who(s, c)}`,
  SafeERC20FailedOperation: ([token], c) => `a transfer of ${who(token, c)} failed`,
  // dispute game (contracts/disputes/lib/DisputeErrors.sol)
  DisputeGameNotFactory: ([caller], c) => `${who(caller, c)} is not the factory that created this dispute game`,
  DisputeGameAlreadyInitialized: () => "the dispute game was already initialized",
  DisputeGameAlreadyResolved: () => "the dispute game is over: no move can be played any more (see `dispute show`)",
  DisputeGameWrongLevel: ([expected, actual]) => `the game is at ${level(actual)}, this move belongs to ${level(expected)}`,
  DisputeGameNotYourTurn: ([caller, turn], c) =>
    `it is not the turn of ${who(caller, c)}: ${side(turn)} moves next (or the account plays no side in this game)`,
  DisputeGameClockExpired: ([deadline], c) =>
    `the deadline of this move passed at ${when(deadline, c)}: the side to move lost its turn, only \`dispute timeout\` is left`,
  DisputeGameClockNotExpired: ([deadline], c) => `the side to move still has time: its deadline is ${when(deadline, c)}`,
  DisputeGameChildrenMismatch: ([node, computed]) =>
    `the two children do not hash to the side's node ${node} (they hash to ${computed}): is this the trace the side committed to?`,
  DisputeGameLayerDescriptor: ([k, given]) =>
    `the move landing on trace leaf ${k} must open that layer's descriptor if and only if it is a layer (${given} bytes given)`,
  DisputeGameGraphLeafMismatch: ([root, index, computed]) =>
    `the layer descriptor does not open graph commitment ${root} at leaf ${index} (it leads to ${computed})`,
  DisputeGameChunkLength: ([len]) => `a chunk must be 1024 bytes, ${len} given`,
  DisputeGameChunkMismatch: ([leaf, computed]) => `the chunk does not hash to the side's chunk leaf ${leaf} (it hashes to ${computed})`,
  DisputeGameChunksEqual: () => "the defender's chunk and the challenger's are identical though their leaves differ",
  GameNoOutputMismatch: ([leaf, output]) =>
    `no output mismatch: trace leaf ${leaf} is not proven in the worker's trace, or it equals the output commitment ${output}`,
  // dispute factory
  FactoryResultMismatch: ([id]) => `the result given is not the one the worker of job ${id} submitted`,
  DisputeGameFactoryInsufficientStake: ([who_, staked, min], c) =>
    `${who(who_, c)} has ${vtn(staked)} staked; a challenger needs at least the minimum stake of ${vtn(min)} (stake more with \`stake add\`)`,
  DisputeGameFactoryHeaderMismatch: ([root, computed]) =>
    `the graph header does not open the model's graph commitment ${root} (it leads to ${computed}, or has the wrong depth)`,
  DisputeGameFactoryUnknownGame: ([caller], c) => `${who(caller, c)} is not an unsettled game of this factory`,
  DisputeGameFactoryInvalidParameter: ([name]) => `dispute parameter ${name} is out of its allowed range`,
  DisputeGameFactoryUnknownCommitment: ([commitment]) =>
    `no unrevealed commitment ${commitment} of the sender: a dispute opens only as the reveal of the sender's own commitment (same job, trace root, output leaf and salt), made in an earlier block and not yet used`,
  DisputeGameFactoryCommitmentTooRecent: ([commitment, block]) =>
    `commitment ${commitment} was made in block ${block}: it can be revealed from the next block on`,
  DisputeGameFactoryCommitmentExists: ([commitment]) => `commitment ${commitment} was already made (commitments are single-use)`,
  DisputeGameFactoryDisputesNotOver: ([id, open]) =>
    `the disputes of job ${id} cannot close yet: ${open} game(s) still open, or its challenge window is still open on a result not rejected`,
  DisputeGameFactoryNothingToClose: ([id]) => `job ${id} has no disputes to close (none was opened, or they are already closed)`,
  FailedDeployment: () => "cloning the dispute game failed",
  InsufficientBalance: ([balance, needed]) => `the contract holds ${vtn(balance)}, ${vtn(needed)} is needed`,
  ReentrancyGuardReentrantCall: () => "a reentrant call was refused",
  // proofs (contracts/disputes/lib/OneStepErrors.sol)
  MerkleProofIndexOutOfRange: ([index, depth]) => `leaf index ${index} does not fit a Merkle proof of ${depth} siblings`,
  TensorProofChunkLength: ([len]) => `a chunk opening must be 1024 bytes, ${len} given`,
  TensorProofElementOutOfRange: ([e, n]) => `element ${e} is out of the tensor's ${n} elements`,
  TensorProofChunkMismatch: ([root, chunk, computed]) =>
    `chunk ${chunk} and its siblings do not lead to tensor commitment ${root} (they lead to ${computed})`,
  TensorProofValueMismatch: ([e, claimed, actual]) => `element ${e} holds ${actual}, not the claimed ${claimed}`,
  GraphLeafRootMismatch: ([root, index, computed]) =>
    `graph leaf ${index} and its siblings do not lead to graph commitment ${root} (they lead to ${computed})`,
  GraphLeafNotALayer: ([index]) => `graph leaf ${index} is the header, not a layer`,
  GraphLeafUnsupportedVersion: ([v]) => `the graph header has version ${v}; only canonical/1 is supported`,
  GraphLeafUnknownKind: ([index, kind]) => `layer ${index} has unknown kind ${kind}`,
  GraphLeafBadLayout: ([index, kind, what, count, expected]) =>
    `layer ${index} (kind ${kind}) has ${count} ${["params", "inputs", "constants", "outShape dimensions"][Number(what)] ?? "entries"}, ${expected} expected`,
  GraphLeafInputNotEarlier: ([index, input]) => `layer ${index} reads trace tensor ${input}, which is not earlier than itself`,
  GraphLeafBadParam: ([index, param, value]) => `layer ${index} has an invalid param #${param} (${value})`,
  // one-step verifier
  OneStepVerifierWrongPhase: ([kind, phase]) => `step phase ${STEP_PHASE_NAMES[Number(phase) as StepPhase] ?? phase} does not fit layer kind ${kind}`,
  OneStepVerifierElementOutOfRange: ([e, n]) => `element ${e} is out of the layer output's ${n} elements`,
  OneStepVerifierTermOutOfRange: ([term, len]) => `reduction term ${term} is out of the reduction's ${len} terms`,
  OneStepVerifierValueOutOfRange: ([v]) => `claimed partial result ${v} is outside the exact range |v| < 2^24`,
  OneStepVerifierTraceLeafMismatch: ([root, index, computed]) =>
    `the opening of trace leaf ${index} does not lead to trace root ${root} (it leads to ${computed})`,
  OneStepVerifierMissingOpening: ([needed, given]) => `the step needs at least ${needed} tensor openings, ${given} given`,
  OneStepVerifierUnusedOpenings: ([used, given]) => `the step reads ${used} tensor openings, ${given} given`,
  OneStepVerifierLutDomain: ([x, lo, hi]) => `LUT input ${x} lies outside the table's domain [${lo}, ${hi}]`,
  OneStepVerifierBadShift: ([s]) => `a committed shift exponent is ${s}, outside 0..24`,
  OneStepVerifierEmptyWindow: ([e]) => `the MAXPOOL window of element ${e} has no element in range (invalid pads)`,
  ConvStepBadGroup: ([cin, m, g]) => `CONV group ${g} does not divide the ${cin} input and ${m} output channels`,
  // governor and timelock (OpenZeppelin)
  GovernorInsufficientProposerVotes: ([proposer, votes, threshold], c) =>
    `not enough votes to propose: ${who(proposer, c)} has ${vtn(votes)}, the proposal threshold is ${vtn(threshold)} (delegate first: \`gov delegate\`)`,
  GovernorUnexpectedProposalState: ([id, current, expected]) =>
    `proposal ${id} is ${PROPOSAL_STATE_NAMES[Number(current)] ?? current}; this needs it ${expectedStates(BigInt(expected as string))}`,
  GovernorNonexistentProposal: ([id]) => `no proposal ${id} exists on this governor`,
  GovernorAlreadyCastVote: ([voter], c) => `${who(voter, c)} has already voted on this proposal`,
  GovernorInvalidVoteType: () => "the vote must be for, against or abstain",
  GovernorOnlyExecutor: ([account], c) => `${who(account, c)} is not the governor's executor (the timelock): only a passed proposal can do this`,
  GovernorInvalidProposalLength: ([t, d, v]) => `a proposal needs as many targets, calldatas and values (${t}, ${d}, ${v} given), and at least one`,
  GovernorRestrictedProposer: ([proposer], c) => `${who(proposer, c)} may not make a proposal with this description`,
  GovernorInvalidVotingPeriod: ([period]) => `voting period ${period} is invalid: it must be at least one block`,
  GovernorInvalidQuorumFraction: ([n, d]) => `quorum ${n}/${d} is invalid: at most 100%`,
  GovernorAlreadyQueuedProposal: ([id]) => `proposal ${id} is already queued`,
  GovernorUnableToCancel: ([id, account], c) => `${who(account, c)} cannot cancel proposal ${id}`,
  ERC5805FutureLookup: ([t, clock]) => `votes at block ${t} are not known yet (the chain is at ${clock}): only past blocks count`,
  TimelockUnexpectedOperationState: ([op]) => `the timelock operation ${String(op).slice(0, 10)}… is not ready: not queued yet, its delay not over, or already done`,
  TimelockInsufficientDelay: ([delay, min]) => `timelock delay ${delay} s is below the minimum ${min} s`,
  TimelockUnauthorizedCaller: ([caller], c) => `${who(caller, c)} may not call the timelock's own functions: only a passed proposal can`,
  TimelockUnexecutedPredecessor: ([op]) => `the timelock operation ${String(op).slice(0, 10)}… that must run first has not run`,
  FailedCall: () => "a call made by the timelock failed without a reason",
  // misc
  OwnableUnauthorizedAccount: ([account], c) => `${who(account, c)} is not the owner (the governance timelock is)`,
  SafeCastOverflowedUintDowncast: ([bits, value]) => `${value} does not fit in ${bits} bits`,
  TensorCommitmentInvalidLength: ([len]) => `a tensor of ${len} bytes is not a whole number of int32 elements`,
  InferenceConsumerOnlyJobManager: ([caller], c) => `${who(caller, c)} is not the job escrow`,
  InferenceConsumerUnknownJob: ([id]) => `job ${id} is not one this consumer requested and still waits for`,
  InferenceConsumerJobNotFailed: ([id, status]) => `job ${id} is ${jobStatusName(status as bigint)}: it has not failed (refunded or rejected)`,
  DigitOracleBadOutput: ([len]) => `the output has ${len} bytes; the digit oracle expects 10 int32 scores (40 bytes)`,
  // subscriptions
  SubscriptionManagerUnknownSubscription: ([id]) => `unknown subscription ${id}: no subscription has that id`,
  SubscriptionManagerConsumerHasNoCode: ([caller], c) =>
    `${who(caller, c)} has no code: a subscription is created by its consumer contract itself, which gives each run's input and takes each result`,
  SubscriptionManagerNotConsumer: ([id, caller], c) => `${who(caller, c)} is not the consumer of subscription ${id}: only its consumer contract may do this`,
  SubscriptionManagerInvalidSchedule: ([period, runs]) => `a schedule needs a period of at least 1 s and at least one run (period ${period} s, ${runs} runs given)`,
  SubscriptionManagerModelDeprecated: ([id]) => `model ${id} is deprecated and takes no new jobs`,
  SubscriptionManagerInvalidCallbackGas: ([limit, jobGas, max]) =>
    `callback gas limit ${limit} is invalid: it must be more than 0, and with the relay's overhead (${jobGas} gas for each run's job) at most the escrow's maximum of ${max}`,
  SubscriptionManagerFeeTooLow: ([id, fee, min]) =>
    BigInt(id as bigint) === 0n
      ? `fee per run ${vtn(fee)} is below the least a run's job accepts, ${vtn(min)} (the model's price and the callback fee of the relay's gas, after the protocol fee)`
      : `the fee per run of subscription ${id}, ${vtn(fee)}, no longer covers a run's job: the least fee is now ${vtn(min)} (the model's price, the protocol fee or the callback fee rose); its consumer must raise it (setFeePerRun) or cancel`,
  SubscriptionManagerCancelled: ([id]) => `subscription ${id} was cancelled by its consumer`,
  SubscriptionManagerFinished: ([id, runs]) => `subscription ${id} is finished: its ${runs} runs were triggered or skipped`,
  SubscriptionManagerNotDue: ([id, next, at], c) => `the current run of subscription ${id} was already triggered: run ${next} is due at ${when(at, c)}`,
  SubscriptionManagerInsufficientBalance: ([id, balance, needed]) =>
    `subscription ${id} holds ${vtn(balance)}, ${vtn(needed)} is needed (a run's fee and keeper reward, or the amount asked): its consumer must fund it`,
  SubscriptionManagerInputFailed: ([id, run, reason], c) =>
    `the consumer of subscription ${id} refused the input of run ${run}${innerReason(reason, c)} (nothing was paid; the run is skipped if its interval passes)`,
  SubscriptionManagerBadInput: ([id, run, expected, size]) =>
    `the consumer of subscription ${id} answered the input of run ${run} with ${size} bytes of return data; the model's input is ${expected} bytes ` +
    `(abi.encode of it is ${64n + ((BigInt(expected as bigint) + 31n) / 32n) * 32n} bytes)`,
  SubscriptionManagerOnlyJobManager: ([caller], c) => `${who(caller, c)} is not the job escrow: results come only from it`,
  SubscriptionManagerUnknownRun: ([jobId]) => `job ${jobId} is no run of a subscription`,
  SubscriptionManagerRunNotPending: ([jobId, state]) => `the run of job ${jobId} has already come back (${RUN_STATES[Number(state)] ?? state}): nothing to settle`,
  SubscriptionManagerRunNotFailed: ([jobId, status]) => `job ${jobId} is ${jobStatusName(status as bigint)}: it has not failed (refunded or rejected)`,
  SubscriptionManagerNoFailedRelay: ([jobId, state]) => `the run of job ${jobId} has no failed relay to retry (it is ${RUN_STATES[Number(state)] ?? state})`,
  SubscriptionManagerNotFinalOutput: ([jobId]) =>
    `the terms and output given are not the final result of job ${jobId}: pass its JobRequested terms and ResultSubmitted output, once it is finalized`,
  SubscriptionManagerZeroAmount: () => "the amount must be greater than zero",
  SubscriptionConsumerOnlyManager: ([caller], c) => `${who(caller, c)} is not the subscription manager`,
  SubscriptionConsumerUnknownSubscription: ([id]) => `subscription ${id} is not one this consumer created`,
  // redundancy k
  RedundantRequestsInvalidRedundancy: ([k, max]) => `a group has 2 to ${max} jobs, not ${k}`,
  RedundantRequestsConsumerNotSupported: ([consumer]) => `a group's jobs have no consumer (${consumer} given): integrators read the group's confirmed output`,
  RedundantRequestsValueNotCovered: ([value, covered, fee]) =>
    `the k locks cover ${vtn(covered)}, less than the value ${vtn(value)}: a job's lock grows with its fee, raise the fee to at least ${vtn(fee)} per job`,
  RedundantRequestsUnknownGroup: ([id]) => `unknown group ${id}: no group has that id`,
  RedundantRequestsNotPending: ([id, status]) => `group ${id} already has its answer (${["None", "Pending", "Confirmed", "Resolved"][Number(status)] ?? status})`,
  RedundantRequestsNoResult: ([jobId, status]) => `job ${jobId} is ${jobStatusName(status as bigint)}: it has no standing result to confirm its group`,
  RedundantRequestsResultMismatch: ([jobId]) => `job ${jobId}'s result is not that output under those terms (another output, or terms that are not the group's)`,
  RedundantRequestsUnderDispute: ([jobId, open]) => `job ${jobId} is under dispute (${open} open): no early finality while a dispute is open`,
  RedundantRequestsRepeatedWorker: ([worker, a, b]) => `worker ${worker} holds jobs ${a} and ${b}: no early finality, the group waits for the challenge windows`,
  RedundantRequestsJobNotOver: ([jobId, status]) => `job ${jobId} is ${jobStatusName(status as bigint)}: not over yet (finalized, refunded or rejected)`,
  RedundantRequestsOutputRejected: ([jobId]) => `job ${jobId} had that output and was rejected: the output was proven wrong`,
  RedundantRequestsNoFinalizedJob: ([id]) => `none of group ${id}'s jobs finalized: the group has no answer (its fees come back through settle)`,
  RedundantRequestsNothingToSettle: ([id]) => `group ${id} has no job newly over: nothing to settle`,
  RedundantRequestsUnexpectedJobId: ([expected, got]) => `the escrow numbered a group's job ${got}, not ${expected}`,
  SignalFeedNoFeatures: () => "the feed has no features: its owner must set them (setFeatures) before a run can read them",
  SignalFeedBadFeatures: ([len, expected]) => `the features have ${len} bytes; the model's input has ${expected}`,
  SignalFeedBadOutput: ([len, expected]) => `the output has ${len} bytes; the model's output has ${expected}`,
  SignalFeedOutputTooLarge: ([n]) => `the model's output has ${n} elements, more than a signal's index holds (2^24)`,
};

/** The manager's run states (ISubscriptionManager.RunState), as words. */
const RUN_STATES = ["not a run", "requested", "delivered", "relay failed", "settled"];

/** A consumer's own revert data inside a manager error, in words when it is a known error. */
function innerReason(reason: unknown, c: Required<RevertContext>): string {
  const data = String(reason);
  if (data === "0x") return "";
  try {
    const parsed = PROTOCOL_ERRORS.parseError(data);
    if (parsed) return `: ${describeError(parsed, c)}`;
  } catch {
    // not a protocol error: shown as data below
  }
  return `: revert data ${data.slice(0, 74)}${data.length > 74 ? "…" : ""}`;
}

const PROPOSAL_STATE_NAMES = ["Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed"];

/** OpenZeppelin's bitmap of expected proposal states, as words. */
function expectedStates(bitmap: bigint): string {
  const names = PROPOSAL_STATE_NAMES.filter((_, i) => ((bitmap >> BigInt(i)) & 1n) === 1n);
  return names.length === 0 ? "in another state" : names.join(" or ");
}

/** Phrases a decoded custom error; unknown ones print as `Name(arg, ...)`. */
export function describeError(e: ErrorDescription, context: RevertContext = {}): string {
  const c: Required<RevertContext> = { names: context.names ?? new Map(), now: context.now ?? 0n };
  const phrase = PHRASES[e.name];
  if (phrase) return phrase(e.args.toArray(), c);
  if (e.name === "Error") return String(e.args[0]);
  if (e.name === "Panic") return `the contract panicked (code ${e.args[0]})`;
  return `${e.name}(${e.args.toArray().map(String).join(", ")})`;
}

/** The readable reason of a failed call, or undefined when the error is not a revert we know. */
export function decodeRevert(error: unknown, context: RevertContext = {}): string | undefined {
  const data = revertData(error);
  if (data === undefined) return undefined;
  let parsed: ErrorDescription | null = null;
  try {
    parsed = PROTOCOL_ERRORS.parseError(data);
  } catch {
    parsed = null;
  }
  if (parsed) return describeError(parsed, context);
  return `the transaction reverted with unknown error data ${data.slice(0, 74)}${data.length > 74 ? "…" : ""}`;
}

/** The protocol's custom error a failed call reverted with (its name and arguments), or undefined. */
export function protocolRevert(error: unknown): ErrorDescription | undefined {
  const data = revertData(error);
  if (data === undefined) return undefined;
  try {
    return PROTOCOL_ERRORS.parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The SDK's stable code of a revert (UNKNOWN_MODEL, FEE_TOO_LOW…; REVERTED or UNKNOWN_REVERT otherwise). */
function revertCode(error: unknown): VeritensorErrorCode {
  const data = revertData(error);
  if (data === undefined) return "ERROR";
  try {
    const parsed = PROTOCOL_ERRORS.parseError(data);
    return parsed ? codeOfError(parsed.name) : "UNKNOWN_REVERT";
  } catch {
    return "UNKNOWN_REVERT";
  }
}

/** Rethrows a revert as a VeritensorError that says what went wrong, prefixed with `action`. */
export function explainFailure(error: unknown, action: string, context: RevertContext = {}): never {
  if (VeritensorError.is(error)) throw error;
  const reason = decodeRevert(error, context);
  if (reason !== undefined) throw new VeritensorError(`${action} failed: ${reason}`, { cause: error, code: revertCode(error) });
  const message = error instanceof Error ? error.message : String(error);
  if (/ECONNREFUSED|fetch failed|connect/i.test(message)) {
    throw new VeritensorError(
      `${action} failed: cannot reach the network's JSON-RPC endpoint (is \`npx hardhat node\` running?)`,
      { cause: error, code: "NETWORK" },
    );
  }
  throw new VeritensorError(`${action} failed: ${message.split("\n")[0]}`, { cause: error });
}

