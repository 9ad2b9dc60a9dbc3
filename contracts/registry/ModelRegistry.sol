// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {BPS as BASIS_POINTS} from "../libraries/FeeSplit.sol";

/**
 * @title ModelRegistry
 * @notice Registry of ONNX models: content hash, graph commitment, shapes, scales, price and revenue split.
 * @dev The registry checks only what it can check on-chain (non-zero commitments and scales, shapes,
 * a split that sums to 10000). Workers and verifiers refuse a file whose hash, graph commitment or
 * scales do not match. There is no registry admin: each model is controlled by its own owner.
 */
contract ModelRegistry is IModelRegistry {
    /// @notice Basis points in a whole (10000): the protocol-wide `BPS` of libraries/FeeSplit.sol.
    uint16 public constant BPS = uint16(BASIS_POINTS);
    /// @notice Upper bound on contributors per model, so that a fee split is a bounded loop.
    uint256 public constant MAX_CONTRIBUTORS = 8;

    uint256 private _count;
    mapping(uint256 modelId => Model) private _models;
    /// @dev Latest version of each family, keyed by the family's first id.
    mapping(uint256 family => uint256 modelId) private _latest;
    /// @dev First model id registered with each content hash (0: none).
    mapping(bytes32 contentHash => uint256 modelId) private _firstByContentHash;

    modifier onlyModelOwner(uint256 modelId) {
        address owner = _existing(modelId).owner;
        if (msg.sender != owner) revert ModelRegistryNotModelOwner(modelId, msg.sender);
        _;
    }

    /// @inheritdoc IModelRegistry
    function registerModel(ModelSpec calldata spec) external returns (uint256 modelId) {
        modelId = _register(spec, 0, 0);
    }

    /// @inheritdoc IModelRegistry
    function publishVersion(
        uint256 previousId,
        ModelSpec calldata spec
    ) external onlyModelOwner(previousId) returns (uint256 modelId) {
        Model storage previous = _models[previousId];
        uint256 family = previous.family;
        uint256 latest = _latest[family];
        if (latest != previousId) revert ModelRegistryNotLatestVersion(previousId, latest);
        modelId = _register(spec, family, previousId);
    }

    /// @inheritdoc IModelRegistry
    function setPrice(uint256 modelId, uint96 price) external onlyModelOwner(modelId) {
        Model storage model = _models[modelId];
        uint256 old = model.price;
        model.price = price;
        emit ModelPriceUpdated(modelId, old, price);
    }

    /// @inheritdoc IModelRegistry
    function setURI(uint256 modelId, string calldata uri) external onlyModelOwner(modelId) {
        if (bytes(uri).length == 0) revert ModelRegistryInvalidCommitment();
        _models[modelId].uri = uri;
        emit ModelURIUpdated(modelId, uri);
    }

    /// @inheritdoc IModelRegistry
    function deprecate(uint256 modelId) external onlyModelOwner(modelId) {
        Model storage model = _models[modelId];
        if (model.deprecated) revert ModelRegistryModelDeprecated(modelId);
        model.deprecated = true;
        emit ModelDeprecated(modelId);
    }

    /// @inheritdoc IModelRegistry
    function transferModelOwnership(uint256 modelId, address newOwner) external onlyModelOwner(modelId) {
        if (newOwner == address(0)) revert ModelRegistryInvalidOwner();
        _models[modelId].owner = newOwner;
        emit ModelOwnershipTransferred(modelId, msg.sender, newOwner);
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _existing(modelId);
    }

    /// @inheritdoc IModelRegistry
    function latestVersion(uint256 modelId) external view returns (uint256) {
        return _latest[_existing(modelId).family];
    }

    /// @inheritdoc IModelRegistry
    function pricing(
        uint256 modelId
    ) external view returns (uint96 price, bool deprecated, uint64 inputElements, uint64 outputElements) {
        Model storage model = _models[modelId];
        // All four share the model's first slot; a registered model has at least one input element.
        (price, deprecated, inputElements, outputElements) = (
            model.price,
            model.deprecated,
            model.inputElements,
            model.outputElements
        );
        if (inputElements == 0) revert ModelRegistryUnknownModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function scales(uint256 modelId) external view returns (uint128 inputScaleWad, uint128 outputScaleWad) {
        Model storage model = _models[modelId];
        // Both share one slot; a registered model's scales are non-zero.
        (inputScaleWad, outputScaleWad) = (model.inputScaleWad, model.outputScaleWad);
        if (inputScaleWad == 0) revert ModelRegistryUnknownModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function firstModelByContentHash(bytes32 contentHash) external view returns (uint256) {
        return _firstByContentHash[contentHash];
    }

    /// @inheritdoc IModelRegistry
    function elements(uint256 modelId) external view returns (uint64 inputElements, uint64 outputElements) {
        Model storage model = _models[modelId];
        (inputElements, outputElements) = (model.inputElements, model.outputElements);
        if (inputElements == 0) revert ModelRegistryUnknownModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function payees(uint256 modelId) external view returns (address, uint16, Contributor[] memory) {
        Model storage model = _existing(modelId);
        return (model.owner, model.developerBps, model.contributors);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _count;
    }

    /// @dev Validates `spec` and stores it as a new model id. `family` 0 starts a new family.
    function _register(ModelSpec calldata spec, uint256 family, uint256 previousId) private returns (uint256 modelId) {
        _validate(spec);
        modelId = ++_count;
        if (family == 0) family = modelId;

        Model storage model = _models[modelId];
        model.owner = msg.sender;
        model.price = spec.price;
        model.family = uint64(family);
        model.previousVersion = uint64(previousId);
        model.inputScaleWad = spec.inputScaleWad;
        model.outputScaleWad = spec.outputScaleWad;
        model.developerBps = spec.developerBps;
        model.contentHash = spec.contentHash;
        model.graphCommitment = spec.graphCommitment;
        model.inputElements = _elements(spec.inputShape);
        model.outputElements = _elements(spec.outputShape);
        model.inputShape = spec.inputShape;
        model.outputShape = spec.outputShape;
        model.uri = spec.uri;
        for (uint256 i = 0; i < spec.contributors.length; ++i) {
            model.contributors.push(spec.contributors[i]);
        }
        _latest[family] = modelId;
        if (_firstByContentHash[spec.contentHash] == 0) _firstByContentHash[spec.contentHash] = modelId;

        emit ModelRegistered(
            modelId,
            msg.sender,
            family,
            previousId,
            spec.contentHash,
            spec.graphCommitment,
            spec.uri,
            spec.price,
            spec.inputScaleWad,
            spec.outputScaleWad
        );
        emit ModelSplitSet(modelId, spec.developerBps, spec.contributors);
    }

    function _validate(ModelSpec calldata spec) private pure {
        if (spec.contentHash == bytes32(0) || spec.graphCommitment == bytes32(0) || bytes(spec.uri).length == 0) {
            revert ModelRegistryInvalidCommitment();
        }
        _validateShape(spec.inputShape);
        _validateShape(spec.outputShape);
        if (spec.inputScaleWad == 0 || spec.outputScaleWad == 0) {
            revert ModelRegistryInvalidScale(spec.inputScaleWad, spec.outputScaleWad);
        }

        uint256 count = spec.contributors.length;
        if (count > MAX_CONTRIBUTORS) revert ModelRegistryTooManyContributors(count, MAX_CONTRIBUTORS);
        uint256 total = spec.developerBps;
        for (uint256 i = 0; i < count; ++i) {
            Contributor calldata c = spec.contributors[i];
            if (c.account == address(0) || c.bps == 0) revert ModelRegistryInvalidContributor(i);
            total += c.bps;
        }
        if (total != BPS) revert ModelRegistryInvalidSplit(total);
    }

    function _validateShape(uint32[] calldata shape) private pure {
        if (shape.length == 0) revert ModelRegistryInvalidShape();
        _elements(shape);
    }

    /// @dev Product of the dimensions; a zero dimension or more than 2^32 elements is invalid.
    function _elements(uint32[] calldata shape) private pure returns (uint64 n) {
        uint256 product = 1;
        for (uint256 i = 0; i < shape.length; ++i) {
            if (shape[i] == 0) revert ModelRegistryInvalidShape();
            product *= shape[i];
            if (product > type(uint32).max) revert ModelRegistryInvalidShape();
        }
        n = uint64(product);
    }

    function _existing(uint256 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert ModelRegistryUnknownModel(modelId);
    }
}
