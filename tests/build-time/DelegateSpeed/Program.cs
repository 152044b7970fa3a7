// The five DCGAN layers: generated kernel against the runtime library, one thread (see DelegateSpeed.csproj and
// docs/build-time.md). "speed [seconds]": per layer, 15 interleaved rounds of generated, prepared, packing on every call
// and the verified cache, medians and per-round ratios, steady-state allocations and the largest differences. "first 0
// <gen|cached|prep|unprep>": each layer's first and second call of one variant in this fresh process, and what the first allocated.
using System.Diagnostics;
using KernelGen;
using DelegateSpeed;

delegate void Gen(ReadOnlySpan<float> i, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> o);

static class P
{
    record Layer(string Name, int Cin, int Cout, int H, int S, int Pad, FusedActivation Act, Gen G);
    static readonly Layer[] Layers =
    {
        new("L1 100->512 1x1 s1", 100, 512, 1, 1, 0, FusedActivation.Relu, K.L1),
        new("L2 512->256 4x4", 512, 256, 4, 2, 1, FusedActivation.Relu, K.L2),
        new("L3 256->128 8x8", 256, 128, 8, 2, 1, FusedActivation.Relu, K.L3),
        new("L4 128->64 16x16", 128, 64, 16, 2, 1, FusedActivation.Relu, K.L4),
        new("L5 64->3 32x32", 64, 3, 32, 2, 1, FusedActivation.Tanh, K.L5),
    };

    static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "speed";
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1.0;
        var only = args.Length > 2 ? args[2] : null; // "gen", "prep", "unprep" for first-call mode
        var rng = new Random(1);
        foreach (var l in Layers)
        {
            var conv = new ConvTranspose2D(l.Cin, l.Cout, 4, l.S, l.Pad) { Activation = l.Act, MaxDegreeOfParallelism = 1 };
            var (oh, ow) = conv.GetOutputSize(l.H, l.H);
            float[] x = R(rng, l.Cin * l.H * l.H), w = R(rng, conv.WeightsLength), b = R(rng, l.Cout);
            float[] y1 = new float[l.Cout * oh * ow], y2 = new float[y1.Length], y3 = new float[y1.Length];
            if (mode == "first")
            {
                // first call latency of one engine in a fresh process (per layer, including Prepare for prep)
                var cl = new CachedLayer(() => conv);
                var sw = Stopwatch.StartNew();
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                if (only == "gen") l.G(x, w, b, y1);
                else if (only == "cached") cl.Compute(x, l.H, l.H, w, b, y1);
                else if (only == "prep") conv.Prepare(w, b).Compute(x, l.H, l.H, y1);
                else conv.Compute(x, l.H, l.H, w, b, y1);
                double first = sw.Elapsed.TotalMilliseconds;
                long a1 = GC.GetAllocatedBytesForCurrentThread();
                sw.Restart();
                if (only == "gen") l.G(x, w, b, y1);
                else if (only == "cached") cl.Compute(x, l.H, l.H, w, b, y1);
                else if (only == "prep") conv.Prepare(w, b).Compute(x, l.H, l.H, y1);
                else conv.Compute(x, l.H, l.H, w, b, y1);
                double second = sw.Elapsed.TotalMilliseconds;
                Console.WriteLine($"{only}\t{l.Name}\tfirst {first:F2} ms\tsecond {second:F3} ms\tfirst-call alloc {(a1 - a0) / 1024.0:F0} KB");
                continue;
            }
            var prep = conv.Prepare(w, b);
            var cached = new CachedLayer(() => new ConvTranspose2D(l.Cin, l.Cout, 4, l.S, l.Pad) { Activation = l.Act, MaxDegreeOfParallelism = 1 });
            float[] y4 = new float[y1.Length];
            l.G(x, w, b, y1); prep.Compute(x, l.H, l.H, y2); conv.Compute(x, l.H, l.H, w, b, y3);
            cached.Compute(x, l.H, l.H, w, b, y4); double d12 = MaxDiff(y1, y2), d13 = MaxDiff(y1, y3), d14 = MaxDiff(y1, y4);
            // warm up to tier 1
            for (int i = 0; i < 50; i++) { l.G(x, w, b, y1); prep.Compute(x, l.H, l.H, y2); conv.Compute(x, l.H, l.H, w, b, y3); cached.Compute(x, l.H, l.H, w, b, y4); }
            Thread.Sleep(200);
            for (int i = 0; i < 50; i++) { l.G(x, w, b, y1); prep.Compute(x, l.H, l.H, y2); conv.Compute(x, l.H, l.H, w, b, y3); cached.Compute(x, l.H, l.H, w, b, y4); }
            // allocations in steady state
            long ac0 = GC.GetAllocatedBytesForCurrentThread(); cached.Compute(x, l.H, l.H, w, b, y4); long ac1 = GC.GetAllocatedBytesForCurrentThread();
            long al0 = GC.GetAllocatedBytesForCurrentThread(); l.G(x, w, b, y1); long al1 = GC.GetAllocatedBytesForCurrentThread();
            prep.Compute(x, l.H, l.H, y2); long al2 = GC.GetAllocatedBytesForCurrentThread();
            conv.Compute(x, l.H, l.H, w, b, y3); long al3 = GC.GetAllocatedBytesForCurrentThread();
            var tg = new List<double>(); var tp = new List<double>(); var tu = new List<double>(); var tc = new List<double>();
            int rounds = 15;
            for (int r = 0; r < rounds; r++)
            {
                tg.Add(Time(() => l.G(x, w, b, y1), seconds / rounds / 3));
                tp.Add(Time(() => prep.Compute(x, l.H, l.H, y2), seconds / rounds / 3));
                tu.Add(Time(() => conv.Compute(x, l.H, l.H, w, b, y3), seconds / rounds / 3));
                tc.Add(Time(() => cached.Compute(x, l.H, l.H, w, b, y4), seconds / rounds / 3));
            }
            var rp = tg.Zip(tp, (g, p) => g / p).Order().ToList(); var ru = tg.Zip(tu, (g, u) => g / u).Order().ToList(); var rc = tg.Zip(tc, (g, u) => g / u).Order().ToList();
            Console.WriteLine($"{l.Name,-22} gen {Med(tg),8:F1} us  prep {Med(tp),8:F1} us  unprep {Med(tu),8:F1} us  gen/prep {Med(rp):F2} ({rp[2]:F2}-{rp[^3]:F2})  gen/unprep {Med(ru):F2} ({ru[2]:F2}-{ru[^3]:F2})  cached {Med(tc),8:F1} us gen/cached {Med(rc):F2} ({rc[2]:F2}-{rc[^3]:F2})  alloc B {al1 - al0}/{al2 - al1}/{al3 - al2}/{ac1 - ac0}  maxdiff {d12:E1} {d13:E1} {d14:E1}");
        }
        return 0;
    }

    static double Time(Action a, double seconds)
    {
        var sw = Stopwatch.StartNew(); int n = 0;
        var samples = new List<double>();
        while (sw.Elapsed.TotalSeconds < seconds || n < 3)
        {
            long t0 = Stopwatch.GetTimestamp(); a(); samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds); n++;
        }
        return Med(samples);
    }
    static double Med(List<double> v) { var s = v.Order().ToList(); return s[s.Count / 2]; }
    static float[] R(Random r, int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * 0.1f; return a; }
    static double MaxDiff(float[] a, float[] b) { double m = 0; for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i])); return m; }
}
