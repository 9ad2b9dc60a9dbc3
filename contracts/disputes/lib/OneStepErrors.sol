// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The custom errors of the one-step proof (Merkle, tensor and graph-leaf proofs, the verifier and
// its step libraries), at file level, one banner per contract, each named <Contract><Problem> and
// carrying the numbers that explain it. The game's and factory's errors are in `DisputeErrors.sol`.

////////////////////////////////////////////////////////////////
//                        MerkleProof                         //
////////////////////////////////////////////////////////////////

/// @dev `index` does not fit a proof of `depth` siblings (it must be below 2^depth), so the
/// same proof could otherwise prove several positions.
/// @param index The leaf index claimed.
/// @param depth The number of siblings in the proof.
error MerkleProofIndexOutOfRange(uint256 index, uint256 depth);

////////////////////////////////////////////////////////////////
//                        TensorProof                         //
////////////////////////////////////////////////////////////////

/// @dev A chunk opening is not exactly 1024 bytes.
/// @param length The length given.
error TensorProofChunkLength(uint256 length);

/// @dev The element index is not below the tensor's element count.
/// @param element The element index.
/// @param numel The number of elements of the tensor.
error TensorProofElementOutOfRange(uint256 element, uint256 numel);

/// @dev The chunk and its siblings do not lead to the tensor root.
/// @param root The tensor commitment expected.
/// @param chunkIndex The chunk index derived from the element index (element / 256).
/// @param computed The root the opening leads to.
error TensorProofChunkMismatch(bytes32 root, uint256 chunkIndex, bytes32 computed);

/// @dev The proven chunk holds another value at the element's position than the one claimed.
/// @param element The element index.
/// @param claimed The value claimed.
/// @param actual The value the chunk holds.
error TensorProofValueMismatch(uint256 element, int256 claimed, int256 actual);

////////////////////////////////////////////////////////////////
//                         GraphLeaf                          //
////////////////////////////////////////////////////////////////

/// @dev The descriptor and its siblings do not lead to the graph commitment.
/// @param graphRoot The graph commitment expected.
/// @param index The graph leaf index (0 = header, k = layer k).
/// @param computed The root the opening leads to.
error GraphLeafRootMismatch(bytes32 graphRoot, uint256 index, bytes32 computed);

/// @dev Leaf 0 is the header; a layer is leaf 1 or later.
/// @param index The leaf index given as a layer.
error GraphLeafNotALayer(uint256 index);

/// @dev The header's version is not 1 (format canonical/1).
/// @param version The version the header holds.
error GraphLeafUnsupportedVersion(uint256 version);

/// @dev The layer kind is not one of 1..13 (offchain/model/layers.ts).
/// @param index The layer.
/// @param kind The kind the descriptor holds.
error GraphLeafUnknownKind(uint256 index, uint256 kind);

/// @dev The descriptor has the wrong number of params, inputs or constants for its kind.
/// @param index The layer.
/// @param kind The layer kind.
/// @param what 0 = params, 1 = inputs, 2 = constants, 3 = outShape rank.
/// @param count The number given.
/// @param expected The number the kind needs.
error GraphLeafBadLayout(uint256 index, uint256 kind, uint256 what, uint256 count, uint256 expected);

/// @dev A layer reads a trace tensor that is not earlier than itself.
/// @param index The layer.
/// @param input The trace index it names as input.
error GraphLeafInputNotEarlier(uint256 index, uint256 input);

/// @dev A param that must be a size, stride, pad or group is negative (or zero where it divides).
/// @param index The layer.
/// @param param The param index (offchain/model/layers.ts).
/// @param value The value the descriptor holds.
error GraphLeafBadParam(uint256 index, uint256 param, int256 value);

////////////////////////////////////////////////////////////////
//                      OneStepVerifier                       //
////////////////////////////////////////////////////////////////

/// @dev The phase does not fit the layer kind: DENSE, CONV, MATMUL and MAXPOOL are reductions
/// (Reduce, Final), every other kind is Direct (MAXPOOL may be either).
/// @param kind The layer kind.
/// @param phase The phase requested (IOneStepVerifier.StepPhase).
error OneStepVerifierWrongPhase(uint256 kind, uint256 phase);

/// @dev The disputed element is not an element of the layer's output.
/// @param element The element index.
/// @param numel The number of elements of the layer's output.
error OneStepVerifierElementOutOfRange(uint256 element, uint256 numel);

/// @dev The reduction index is not below the reduction's length.
/// @param term The reduction index j (the step checks s_{j+1} from s_j).
/// @param length The reduction length L (K for DENSE/MATMUL, (C/group)·KH·KW for CONV, KH·KW for MAXPOOL).
error OneStepVerifierTermOutOfRange(uint256 term, uint256 length);

/// @dev An input tensor root and its siblings do not lead to the agreed trace root.
/// @param traceRoot The trace commitment expected.
/// @param traceIndex The trace leaf (the layer input) being opened.
/// @param computed The root the opening leads to.
error OneStepVerifierTraceLeafMismatch(bytes32 traceRoot, uint256 traceIndex, bytes32 computed);

/// @dev The step needs more tensor openings than were given.
/// @param needed The number of openings the step has read so far, plus the one missing.
/// @param given The number of openings given.
error OneStepVerifierMissingOpening(uint256 needed, uint256 given);

/// @dev More tensor openings were given than the step reads (one opening per read).
/// @param used The number the step read.
/// @param given The number given.
error OneStepVerifierUnusedOpenings(uint256 used, uint256 given);

/// @dev A LUT input lies outside the table's domain.
/// @param x The input value.
/// @param lo The domain's lower end.
/// @param hi The domain's upper end.
error OneStepVerifierLutDomain(int256 x, int256 lo, int256 hi);

/// @dev A committed shift exponent is outside 0..24.
/// @param shift The exponent read.
error OneStepVerifierBadShift(int256 shift);

/// @dev A MAXPOOL window ended without any in-range element (the graph's pads are invalid).
/// @param element The output element.
error OneStepVerifierEmptyWindow(uint256 element);

////////////////////////////////////////////////////////////////
//                          ConvStep                          //
////////////////////////////////////////////////////////////////

/// @dev The CONV group does not divide the input and output channels.
/// @param channels C, the input channels.
/// @param outChannels M, the output channels.
/// @param group The group count.
error ConvStepBadGroup(uint256 channels, uint256 outChannels, uint256 group);

////////////////////////////////////////////////////////////////
//                         GatherStep                         //
////////////////////////////////////////////////////////////////

/// @dev A GATHER index lies outside [0, Σ n_i] (the validator refuses such models; Σ n_i itself
/// reads 0).
/// @param element The output element whose index was read.
/// @param index The index the committed table holds for it.
/// @param total Σ n_i, the element count of the inputs concatenated (the largest valid index).
error GatherStepIndexOutOfRange(uint256 element, int256 index, uint256 total);
