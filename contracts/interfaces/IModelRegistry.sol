// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IModelRegistry
 * @notice Published ONNX models: what a worker must run, what it costs, and who earns from it.
 * @dev Model ids start at 1. A model's commitments, shapes and revenue split never change; a
 * change to any of them is a new version, linked to the one before it.
 */
interface IModelRegistry {
    /// @notice One payee of a model's revenue.
    struct Contributor {
        address account;
        uint16 bps;
    }

    /// @notice Everything registered about one model version.
    /// @dev The first five fields share one storage slot: what the job escrow reads per job
    /// ({pricing}, {elements}) costs one storage read. The two scales share another ({scales}).
    /// @param price Tokens (wei) the model earns per inference, split by `developerBps` and `contributors`.
    /// @param deprecated No new jobs may use it; jobs in flight still settle.
    /// @param developerBps The owner's share of `price`, in basis points.
    /// @param inputElements Number of elements of the input tensor (product of `inputShape`, at least 1).
    /// @param outputElements Number of elements of the output tensor (product of `outputShape`, at least 1).
    /// @param owner The model developer: may update price and URI, deprecate, publish versions.
    /// @param family Id of the first version; all versions of a model share it.
    /// @param previousVersion Id of the version this one replaces (0 for the first).
    /// @param contentHash sha256 of the ONNX file's bytes.
    /// @param graphCommitment Merkle root over the canonical graph (docs/SEMANTICS.md).
    /// @param inputScaleWad Real value of one input unit, 18-decimal fixed point (see {ModelSpec}).
    /// @param outputScaleWad Real value of one output unit, 18-decimal fixed point (see {ModelSpec}).
    /// @param inputShape Shape of the single input tensor.
    /// @param outputShape Shape of the single output tensor.
    /// @param uri Where to fetch the file (file://, http(s)://, ipfs://).
    struct Model {
        uint96 price;
        bool deprecated;
        uint16 developerBps;
        uint64 inputElements;
        uint64 outputElements;
        address owner;
        uint64 family;
        uint64 previousVersion;
        bytes32 contentHash;
        bytes32 graphCommitment;
        uint128 inputScaleWad;
        uint128 outputScaleWad;
        uint32[] inputShape;
        uint32[] outputShape;
        string uri;
        Contributor[] contributors;
    }

    /// @notice What a model developer supplies to register a model or publish a version.
    /// @dev The scales are the file's metadata `veritensor.input.scale` and `veritensor.output.scale`
    /// (docs/SEMANTICS.md) as 18-decimal fixed point: a canonical integer `q` means the real value
    /// `q * scaleWad / 1e18` (canonical/1 has no zero point). The decimal text is rounded to the
    /// nearest 1e-18, halves up. The registry cannot read the file: workers and verifiers check
    /// the scales against it and refuse a model whose registered scales are not the file's.
    struct ModelSpec {
        bytes32 contentHash;
        bytes32 graphCommitment;
        string uri;
        uint32[] inputShape;
        uint32[] outputShape;
        uint128 inputScaleWad;
        uint128 outputScaleWad;
        uint96 price;
        uint16 developerBps;
        Contributor[] contributors;
    }

    /// @notice Emitted by {registerModel} and {publishVersion} when a model (or a new version of one)
    /// is registered; {ModelSplitSet} follows.
    /// @param modelId The new model id.
    /// @param owner Its owner (the caller).
    /// @param family Id of the family's first version (`modelId` itself for a new model).
    /// @param previousVersion Id of the version it replaces (0 for a new model).
    /// @param contentHash sha256 of the ONNX file's bytes.
    /// @param graphCommitment Merkle root over the canonical graph (docs/SEMANTICS.md).
    /// @param uri Where to fetch the file.
    /// @param price Tokens (wei) the model earns per inference.
    /// @param inputScaleWad Real value of one input unit, 18-decimal fixed point.
    /// @param outputScaleWad Real value of one output unit, 18-decimal fixed point.
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        uint256 indexed family,
        uint256 previousVersion,
        bytes32 contentHash,
        bytes32 graphCommitment,
        string uri,
        uint256 price,
        uint256 inputScaleWad,
        uint256 outputScaleWad
    );

    /// @notice Emitted when a model's revenue split is set (once, at registration, after
    /// {ModelRegistered}).
    /// @param modelId The model.
    /// @param developerBps The owner's share, in basis points.
    /// @param contributors The other payees and their shares (with `developerBps`, they sum to 10000).
    event ModelSplitSet(uint256 indexed modelId, uint16 developerBps, Contributor[] contributors);

    /// @notice Emitted by {setPrice} when a model's price changes (jobs already requested keep theirs).
    /// @param modelId The model.
    /// @param oldPrice The price before.
    /// @param newPrice The price from now on.
    event ModelPriceUpdated(uint256 indexed modelId, uint256 oldPrice, uint256 newPrice);

    /// @notice Emitted by {setURI} when a model's storage URI changes (its content hash does not).
    /// @param modelId The model.
    /// @param uri The new URI.
    event ModelURIUpdated(uint256 indexed modelId, string uri);

    /// @notice Emitted by {deprecate} when a model stops accepting new jobs (for good).
    /// @param modelId The model.
    event ModelDeprecated(uint256 indexed modelId);

    /// @notice Emitted by {transferModelOwnership} when a model changes owner.
    /// @param modelId The model.
    /// @param previousOwner The owner before (the caller).
    /// @param newOwner The owner from now on.
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);

    /// @dev No model has id `modelId`.
    /// @param modelId The id given.
    error ModelRegistryUnknownModel(uint256 modelId);

    /// @dev Only a model's owner may change it or publish a version of it.
    /// @param modelId The model.
    /// @param caller The account that called.
    error ModelRegistryNotModelOwner(uint256 modelId, address caller);

    /// @dev The developer's and contributors' shares do not add up to 10000 basis points.
    /// @param total What they add up to.
    error ModelRegistryInvalidSplit(uint256 total);

    /// @dev Too many contributors: the fee split loops over them, so their number is capped.
    /// @param count Contributors given.
    /// @param max The cap (`MAX_CONTRIBUTORS`).
    error ModelRegistryTooManyContributors(uint256 count, uint256 max);

    /// @dev A contributor has the zero address or a zero share.
    /// @param index Its position in `contributors`.
    error ModelRegistryInvalidContributor(uint256 index);

    /// @dev The content hash or graph commitment is zero, or the URI is empty (at registration, or
    /// in {setURI}).
    error ModelRegistryInvalidCommitment();

    /// @dev An input or output shape is empty, has a zero dimension, or has more than 2^32 elements.
    error ModelRegistryInvalidShape();

    /// @dev An input or output scale is zero: every canonical/1 scale is positive.
    /// @param inputScaleWad The input scale given.
    /// @param outputScaleWad The output scale given.
    error ModelRegistryInvalidScale(uint256 inputScaleWad, uint256 outputScaleWad);

    /// @dev The model is already deprecated: a model is deprecated once.
    /// @param modelId The model.
    error ModelRegistryModelDeprecated(uint256 modelId);

    /// @dev A new version can only follow the latest version of its family.
    /// @param modelId The version given as the one to replace.
    /// @param latest The latest version of its family.
    error ModelRegistryNotLatestVersion(uint256 modelId, uint256 latest);

    /// @dev The new owner is the zero address.
    error ModelRegistryInvalidOwner();

    /// @notice Registers a new model; the caller becomes its owner. Returns its id.
    function registerModel(ModelSpec calldata spec) external returns (uint256 modelId);

    /// @notice Publishes a new version of `previousId` (which must be the latest of its family).
    function publishVersion(uint256 previousId, ModelSpec calldata spec) external returns (uint256 modelId);

    /// @notice Sets the price per inference of `modelId`. Jobs already requested keep their price.
    function setPrice(uint256 modelId, uint96 price) external;

    /// @notice Sets where the file of `modelId` can be fetched. Its content hash does not change.
    function setURI(uint256 modelId, string calldata uri) external;

    /// @notice Stops new jobs on `modelId`; jobs in flight still settle. Irreversible.
    function deprecate(uint256 modelId) external;

    /// @notice Hands `modelId` (its revenue and its controls) to `newOwner`.
    function transferModelOwnership(uint256 modelId, address newOwner) external;

    /// @notice The whole record of `modelId`. Reverts for an unknown id.
    function getModel(uint256 modelId) external view returns (Model memory);

    /// @notice The newest version in the family of `modelId`.
    function latestVersion(uint256 modelId) external view returns (uint256);

    /// @notice What the job escrow needs at request time, in one call (one storage read).
    /// Reverts for an unknown id.
    function pricing(
        uint256 modelId
    ) external view returns (uint96 price, bool deprecated, uint64 inputElements, uint64 outputElements);

    /// @notice Real value of one input unit and of one output unit of `modelId`, 18-decimal fixed
    /// point (one storage read): a contract quantizes a real input `x` (wad) as `x / inputScaleWad`
    /// (rounded as it chooses) and dequantizes an output integer `q` as `q * outputScaleWad` (wad).
    /// Reverts for an unknown id.
    function scales(uint256 modelId) external view returns (uint128 inputScaleWad, uint128 outputScaleWad);

    /// @notice The first model id registered with `contentHash` (the sha256 of its file), 0 if
    /// none. Registering the same file again is allowed (versions, re-registrations); this names
    /// the earliest, so a developer or a user can tell.
    function firstModelByContentHash(bytes32 contentHash) external view returns (uint256 modelId);

    /// @notice Element counts of the input and output tensors of `modelId` (one storage read).
    /// Reverts for an unknown id.
    function elements(uint256 modelId) external view returns (uint64 inputElements, uint64 outputElements);

    /// @notice The payees of `modelId`: the owner first (with `developerBps`), then the contributors.
    function payees(uint256 modelId) external view returns (address owner, uint16 developerBps, Contributor[] memory);

    /// @notice Number of models registered so far (the highest id).
    function modelCount() external view returns (uint256);
}
