// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Level, Side} from "./Types.sol";

// The custom errors of the dispute game and its factory, at file level, one banner per contract,
// each named <Contract><Problem> (the layout of Optimism's `src/dispute/lib/Errors.sol`). The
// one-step proof's errors (proof libraries and verifier) are in `OneStepErrors.sol`.

////////////////////////////////////////////////////////////////
//                        DisputeGame                         //
////////////////////////////////////////////////////////////////

/// @dev Only the factory that created the game may initialize it, once.
/// @param caller The account that called.
error DisputeGameNotFactory(address caller);

/// @dev The game was already initialized.
error DisputeGameAlreadyInitialized();

/// @dev The game is over; nothing can be played any more.
error DisputeGameAlreadyResolved();

/// @dev The move belongs to another level of the game.
/// @param expected The level the move plays.
/// @param actual The level the game is at.
error DisputeGameWrongLevel(Level expected, Level actual);

/// @dev It is the other side's turn, or the caller plays no side.
/// @param caller The account that called.
/// @param turn The side to move.
error DisputeGameNotYourTurn(address caller, Side turn);

/// @dev The side to move missed its deadline; only {timeout} is left.
/// @param deadline The last moment the move was allowed.
error DisputeGameClockExpired(uint256 deadline);

/// @dev The side to move still has time.
/// @param deadline The last moment the side to move may move.
error DisputeGameClockNotExpired(uint256 deadline);

/// @dev The two children do not hash to the side's node at the cursor.
/// @param node The node they must open.
/// @param computed sha256(left ‖ right).
error DisputeGameChildrenMismatch(bytes32 node, bytes32 computed);

/// @dev A move that lands on a layer must open its descriptor; one that lands elsewhere must not.
/// @param traceIndex The trace leaf the descent lands on.
/// @param given The descriptor length given.
error DisputeGameLayerDescriptor(uint256 traceIndex, uint256 given);

/// @dev The layer descriptor does not open the graph commitment at its index.
/// @param graphRoot The model's graph commitment.
/// @param index The graph leaf index.
/// @param computed The root the opening leads to.
error DisputeGameGraphLeafMismatch(bytes32 graphRoot, uint256 index, bytes32 computed);

/// @dev A chunk is not 1024 bytes.
/// @param length The length given.
error DisputeGameChunkLength(uint256 length);

/// @dev A chunk does not hash to its side's chunk leaf.
/// @param leaf The side's chunk leaf.
/// @param computed sha256(chunk).
error DisputeGameChunkMismatch(bytes32 leaf, bytes32 computed);

/// @dev The defender's chunk and the challenger's are identical though their leaves differ.
error DisputeGameChunksEqual();

/// @dev A trace root's output proof is wrong: it does not lead from trace leaf L to the root, or has
/// another depth than the trace tree's.
/// @param root The trace root.
/// @param computed The root the proof leads to (zero when its depth is wrong).
error DisputeGameOutputProofMismatch(bytes32 root, bytes32 computed);

/// @dev The challenger's trace ends in the job's own output: there is nothing to dispute (a correct
/// output is a correct result).
/// @param outputCommitment The job's output commitment.
error DisputeGameOutputNotDisputed(bytes32 outputCommitment);

////////////////////////////////////////////////////////////////
//                     DisputeGameFactory                     //
////////////////////////////////////////////////////////////////

/// @dev The challenger's stake is below the minimum.
/// @param challenger The account opening the dispute.
/// @param staked Its stake.
/// @param minStake The minimum stake (Staking's).
error DisputeGameFactoryInsufficientStake(address challenger, uint256 staked, uint256 minStake);

/// @dev The graph header does not open the model's graph commitment at leaf 0, or has another depth.
/// @param graphRoot The model's graph commitment.
/// @param computed The root the opening leads to.
error DisputeGameFactoryHeaderMismatch(bytes32 graphRoot, bytes32 computed);

/// @dev The caller is not a game this factory created, or the game was already settled.
/// @param caller The account that called.
error DisputeGameFactoryUnknownGame(address caller);

/// @dev A governed parameter is out of its range.
/// @param name The parameter.
error DisputeGameFactoryInvalidParameter(string name);

/// @dev No commitment `commitment` is waiting to be revealed: it was never made, already used, or
/// the revealed values (job, challenger, root, output leaf, salt) are not the ones committed.
/// @param commitment The commitment the revealed values hash to.
error DisputeGameFactoryUnknownCommitment(bytes32 commitment);

/// @dev A commitment is revealed in the block it was made in: it must be at least one block old, so
/// that a copy of a revealed claim is always committed after the original.
/// @param commitment The commitment.
/// @param committedAt The block it was made in.
error DisputeGameFactoryCommitmentTooRecent(bytes32 commitment, uint256 committedAt);

/// @dev The commitment was already made (by anyone): commitments are single-use.
/// @param commitment The commitment.
error DisputeGameFactoryCommitmentExists(bytes32 commitment);

/// @dev The disputes of job `jobId` cannot be closed yet: games are still open, or its challenge
/// window is still open on a result not yet rejected (another game could still open).
/// @param jobId The job.
/// @param gamesOpen Games on it not yet settled.
error DisputeGameFactoryDisputesNotOver(uint256 jobId, uint256 gamesOpen);

/// @dev The disputes of job `jobId` were already closed, or none was ever opened on it.
/// @param jobId The job.
error DisputeGameFactoryNothingToClose(uint256 jobId);

/// @dev The dispute names an item the job does not have: items run from 0 to `batchSize - 1`.
/// @param item The item named.
/// @param batchSize The job's batch size (1 for a single job).
error DisputeGameFactoryItemOutOfRange(uint256 item, uint256 batchSize);

/// @dev Only the escrow's audit manager opens a dispute for an auditor ({openAuditDispute}).
/// @param caller The account that called.
error DisputeGameFactoryNotAuditManager(address caller);

/// @dev A dispute on a batch must list one input and one output commitment per item (a single
/// job's may list none).
/// @param batchSize The job's batch size.
/// @param inputItems The input commitments listed.
/// @param outputItems The output commitments listed.
error DisputeGameFactoryBatchItemCount(uint256 batchSize, uint256 inputItems, uint256 outputItems);

/// @dev The listed input commitments are not the job's: their batch commitment differs from the
/// terms' input commitment.
/// @param inputCommitment The terms' input commitment.
/// @param computed The batch commitment of the list.
error DisputeGameFactoryBatchInputMismatch(bytes32 inputCommitment, bytes32 computed);

/// @dev The listed output commitments are not the submitted result's: their batch commitment differs
/// from the submitted output commitment.
/// @param outputCommitment The submitted output commitment.
/// @param computed The batch commitment of the list.
error DisputeGameFactoryBatchOutputMismatch(bytes32 outputCommitment, bytes32 computed);
