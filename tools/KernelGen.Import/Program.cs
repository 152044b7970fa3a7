using KernelGen.Import;

return Importer.Run(args, Console.Out, Console.Error);
