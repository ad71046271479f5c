"""Solutions to notebook 01's exercises."""

import torch
from torch import nn

from animegan_edu.teaching import exercises_models as exercises
from animegan_edu.teaching import exercises_projects as projects


def out_size(h: int, top: int, bottom: int) -> int:
    padded = h + top + bottom  # the generator's units: top=0, bottom=1
    return (padded - 3) // 2 + 1  # 3x3 kernel, stride 2


def conv_params(in_ch: int, out_ch: int, k: int, groups: int, bias: bool) -> int:
    return out_ch * (in_ch // groups) * k * k + (out_ch if bias else 0)


class MyBlock(nn.Module):
    """The inverted residual block; layers created in the order they run (the checker copies by order)."""

    def __init__(self, in_ch: int, out_ch: int, expansion_ratio: int = 2) -> None:
        super().__init__()
        mid = in_ch * expansion_ratio
        self.use_residual = in_ch == out_ch
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid, 1, bias=False),  # (a) expand
            nn.GroupNorm(1, mid),
            nn.LeakyReLU(0.2),
            nn.ReflectionPad2d(1),
            nn.Conv2d(mid, mid, 3, groups=mid, bias=True),  # depthwise: one filter per channel
            nn.GroupNorm(1, mid),
            nn.LeakyReLU(0.2),
            nn.Conv2d(mid, out_ch, 1, bias=False),  # project, no activation after it
            nn.GroupNorm(1, out_ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.use_residual else out


RESULTS = [
    exercises.check_stride2_size(out_size),
    exercises.check_conv_parameters(conv_params),
    projects.check_inverted_residual(MyBlock),
]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
