"""Solutions to notebook 01's exercises."""

from animegan_edu.teaching import exercises_models as exercises


def out_size(h: int, top: int, bottom: int) -> int:
    padded = h + top + bottom  # the generator's units: top=0, bottom=1
    return (padded - 3) // 2 + 1  # 3x3 kernel, stride 2


def conv_params(in_ch: int, out_ch: int, k: int, groups: int, bias: bool) -> int:
    return out_ch * (in_ch // groups) * k * k + (out_ch if bias else 0)


RESULTS = [exercises.check_stride2_size(out_size), exercises.check_conv_parameters(conv_params)]

if __name__ == "__main__":
    print(*RESULTS, sep="\n")
