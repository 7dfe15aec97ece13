"""Weight layers shared by the spiking and ANN stacks (pure torch, time-first layout)."""

from .conv_bn import ConvBN, DepthwiseTokenConv, TokenConv, fold_batchnorm
from .folding import Foldable, fold_for_inference
from .norm import MaskedBatchNorm
from .ops import ElementwiseMul, MatMul

__all__ = [
    "ConvBN",
    "DepthwiseTokenConv",
    "ElementwiseMul",
    "Foldable",
    "MaskedBatchNorm",
    "MatMul",
    "TokenConv",
    "fold_batchnorm",
    "fold_for_inference",
]
