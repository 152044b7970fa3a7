# The benchmark shapes (tests/KernelGen.Benchmarks/Generated/GeneratedKernels.cs) as attribute texts, the DCGAN layer
# first: sourced by measure.sh and compile-generated.sh, which index them (0 = dcgan, 3 = game_up).
# shellcheck disable=SC2034
shapes=(
    "GeneratedConvTranspose2D(128, 64, 16, 16, 4, Stride = 2, Padding = 1)"
    "GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2)"
    "GeneratedConvTranspose2D(32, 32, 32, 32, 3, Stride = 1, Padding = 1)"
    "GeneratedConvTranspose2D(16, 8, 64, 64, 3, Stride = 2, Padding = 1, OutputPadding = 1)"
    "GeneratedConvTranspose2D(1, 1, 256, 256, 4, Stride = 2, Padding = 1)"
    "GeneratedConvTranspose2D(32, 32, 64, 64, 4, Stride = 2, Padding = 1, Groups = 32)"
    "GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2, Layout = TensorLayout.Nhwc)"
    "GeneratedConvTranspose1D(512, 256, 32, 16, Stride = 8, Padding = 4)"
    "GeneratedConvTranspose1D(128, 64, 2048, 4, Stride = 2, Padding = 1)"
    "GeneratedConvTranspose3D(64, 32, 16, 16, 16, 2, Stride = 2)"
    "GeneratedConvTranspose3D(32, 16, 8, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)"
    "GeneratedConvTranspose2D(4, 4, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)"
    "GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)"
)

# The five layers of samples/Dcgan (NCHW; declared with a bias: measure.sh --set dcgan).
dcgan_layers=(
    "GeneratedConvTranspose2D(100, 512, 1, 1, 4, Stride = 1, Padding = 0, Activation = FusedActivation.Relu)"
    "GeneratedConvTranspose2D(512, 256, 4, 4, 4, Stride = 2, Padding = 1, Activation = FusedActivation.Relu)"
    "GeneratedConvTranspose2D(256, 128, 8, 8, 4, Stride = 2, Padding = 1, Activation = FusedActivation.Relu)"
    "GeneratedConvTranspose2D(128, 64, 16, 16, 4, Stride = 2, Padding = 1, Activation = FusedActivation.Relu)"
    "GeneratedConvTranspose2D(64, 3, 32, 32, 4, Stride = 2, Padding = 1, Activation = FusedActivation.Tanh)"
)
