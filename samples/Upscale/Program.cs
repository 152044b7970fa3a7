// Doubles an image's resolution with a bilinear transposed convolution (see BilinearUpscaler). All the work is in
// UpscaleCommand, so that the tests can run the program in-process with their own arguments and writers.
//   dotnet run --project samples/Upscale -- input.png output.png
//   dotnet run --project samples/Upscale [-- --out folder]      (generates a test image and upscales it)
return Upscale.UpscaleCommand.Run(args, Console.Out, Console.Error);
