// This file is compiled into both the runtime library and the source generator (netstandard2.0): the runtime's paired
// width kernel and the generated width code pair the two column phases of a stride-2 axis by these rules (which phase
// fills the even cells, the input column each tap reads relative to the pair index, the pairs of a row). Keep it free
// of APIs newer than netstandard2.0 and of runtime-only types.
#nullable enable

using System;

namespace KernelGen.Planning
{
    /// <summary>
    /// The column side of a stride-2 axis with both phases: output columns <c>2m</c> and <c>2m + 1</c> ("pair <c>m</c>") are
    /// positions of the two phases that move together with <c>m</c>, so one vector of pair indices holds both phases'
    /// cells. Each phase's taps become input column shifts relative to <c>m</c>; the plan also gives the border they need.
    /// </summary>
    internal sealed class PairedColumnPlan
    {
        private PairedColumnPlan(AxisPlan columns)
        {
            Even = columns.Phases[columns.OutputPhase[0]];
            Odd = columns.Phases[columns.OutputPhase[1]];
            EvenFirstQ = columns.OutputQ[0];
            OddFirstQ = columns.OutputQ[1];
            EvenShifts = InputShifts(Even, EvenFirstQ);
            OddShifts = InputShifts(Odd, OddFirstQ);
            EvenKernelColumns = Even.KernelTaps;
            OddKernelColumns = Odd.KernelTaps;
            int lowestShift = 0, highestShift = 0;
            foreach (int[] shifts in new[] { EvenShifts, OddShifts })
            {
                foreach (int shift in shifts)
                {
                    lowestShift = Math.Min(lowestShift, shift);
                    highestShift = Math.Max(highestShift, shift);
                }
            }

            Sharing = SharingOf(EvenShifts, OddShifts);
            FullPairs = columns.OutputLength / 2;
            PairCount = (columns.OutputLength + 1) / 2;
            // Vectors cover pairs [0, max(PairCount, KernelShapes.MaxLanes)): a row shorter than a vector still runs one whole vector.
            ColumnShift = -lowestShift;
            PaddedWidth = ColumnShift + Math.Max(columns.InputLength, (long)Math.Max(PairCount, KernelShapes.MaxLanes) - 1 + highestShift + 1);
        }

        /// <summary>The phase of the even output columns (cell <c>2m</c> is its position <see cref="EvenFirstQ"/> + m).</summary>
        public AxisPhase Even { get; }

        /// <summary>The phase of the odd output columns (cell <c>2m + 1</c> is its position <see cref="OddFirstQ"/> + m).</summary>
        public AxisPhase Odd { get; }

        /// <summary>The position in <see cref="Even"/> of output column 0.</summary>
        public int EvenFirstQ { get; }

        /// <summary>The position in <see cref="Odd"/> of output column 1.</summary>
        public int OddFirstQ { get; }

        /// <summary>Input column of each even-cell tap, relative to the pair index <c>m</c>.</summary>
        public int[] EvenShifts { get; }

        /// <summary>Input column of each odd-cell tap, relative to the pair index <c>m</c>.</summary>
        public int[] OddShifts { get; }

        /// <summary>Kernel column of each even-cell tap.</summary>
        public int[] EvenKernelColumns { get; }

        /// <summary>Kernel column of each odd-cell tap.</summary>
        public int[] OddKernelColumns { get; }

        /// <summary>Which odd-cell column taps read the same column as an even-cell one.</summary>
        public ColumnSharing Sharing { get; }

        /// <summary>Pairs in a row; an odd width's last pair has no odd cell.</summary>
        public int PairCount { get; }

        /// <summary>Pairs with both cells: <see cref="PairCount"/> less the lone even cell that ends an odd width.</summary>
        public int FullPairs { get; }

        /// <summary>Padded column of input column 0: the zero border on the left.</summary>
        public int ColumnShift { get; }

        /// <summary>Columns of the zero-bordered copy: every read of every vector of pairs lies inside (checked against the scratch limit by <see cref="ExecutionPlan"/>).</summary>
        public long PaddedWidth { get; }

        /// <summary>
        /// The form the paired kernel runs a row phase of <paramref name="rowTaps"/> taps in: its taps flattened (row tap major)
        /// into straight-line code when each width phase has 1, 2 or 4 of them, else loops. Each column-sharing pattern
        /// fixes the column taps of both phases, so only these forms exist: the kernel instantiates its generic blocks for
        /// them alone.
        /// </summary>
        public PairedTaps FormFor(int rowTaps)
        {
            int even = FlatTaps.Count(rowTaps, EvenShifts.Length), odd = FlatTaps.Count(rowTaps, OddShifts.Length);
            if (!IsFlat(even) || !IsFlat(odd))
                return PairedTaps.Looped;
            return (Sharing, even, odd) switch
            {
                (ColumnSharing.None, 1, 1) => PairedTaps.None1x1,
                (ColumnSharing.None, 1, 2) => PairedTaps.None1x2,
                (ColumnSharing.None, 1, 4) => PairedTaps.None1x4,
                (ColumnSharing.None, 2, 1) => PairedTaps.None2x1,
                (ColumnSharing.None, 2, 2) => PairedTaps.None2x2,
                (ColumnSharing.None, 2, 4) => PairedTaps.None2x4,
                (ColumnSharing.None, 4, 1) => PairedTaps.None4x1,
                (ColumnSharing.None, 4, 2) => PairedTaps.None4x2,
                (ColumnSharing.None, 4, 4) => PairedTaps.None4x4,
                (ColumnSharing.SecondOddIsFirstEven, 2, 2) => PairedTaps.SecondOddIsFirstEven2x2,
                (ColumnSharing.SecondOddIsFirstEven, 4, 4) => PairedTaps.SecondOddIsFirstEven4x4,
                (ColumnSharing.OddIsEven, 1, 1) => PairedTaps.OddIsEven1x1,
                (ColumnSharing.OddIsEven, 2, 2) => PairedTaps.OddIsEven2x2,
                (ColumnSharing.OddIsEven, 4, 4) => PairedTaps.OddIsEven4x4,
                (ColumnSharing.SecondOddIsEven, 1, 2) => PairedTaps.SecondOddIsEven1x2,
                (ColumnSharing.SecondOddIsEven, 2, 4) => PairedTaps.SecondOddIsEven2x4,
                (ColumnSharing.OddIsFirstEven, 2, 1) => PairedTaps.OddIsFirstEven2x1,
                (ColumnSharing.OddIsFirstEven, 4, 2) => PairedTaps.OddIsFirstEven4x2,
                _ => throw new InvalidOperationException($"No paired form for {Sharing} with {even} even and {odd} odd taps."),
            };

            static bool IsFlat(int taps) => taps is 1 or 2 or 4;
        }

        /// <summary>
        /// Whether the columns pair: a stride of 2 with both phases present (so at least two output columns, each phase
        /// having one at least).
        /// </summary>
        public static bool Pairs(AxisPlan columns) => columns.Geometry.Stride == 2 && columns.Phases.Length == 2;

        /// <summary>The plan for a stride-2 axis with both phases, or null when the axis is not one.</summary>
        public static PairedColumnPlan? TryCreate(AxisPlan columns) => Pairs(columns) ? new PairedColumnPlan(columns) : null;

        /// <summary>
        /// The input column each tap of <paramref name="phase"/> reads at its position <c><paramref name="firstQ"/> + m</c>,
        /// relative to <c>m</c>: a tap with offset <c>d</c> reads input column <c>firstQ + m - d</c>.
        /// </summary>
        public static int[] InputShifts(AxisPhase phase, int firstQ)
        {
            var shifts = new int[phase.TapOffsets.Length];
            for (int t = 0; t < shifts.Length; t++)
                shifts[t] = firstQ - phase.TapOffsets[t];
            return shifts;
        }

        private static ColumnSharing SharingOf(int[] even, int[] odd) => (even.Length, odd.Length) switch
        {
            (2, 2) when odd[1] == even[0] && odd[0] != even[1] => ColumnSharing.SecondOddIsFirstEven,
            (2, 2) when odd[0] == even[0] && odd[1] == even[1] => ColumnSharing.OddIsEven,
            (1, 2) when odd[1] == even[0] => ColumnSharing.SecondOddIsEven,
            (2, 1) when odd[0] == even[0] => ColumnSharing.OddIsFirstEven,
            (1, 1) when odd[0] == even[0] => ColumnSharing.OddIsEven,
            _ => ColumnSharing.None,
        };
    }

    /// <summary>
    /// The column taps the two width phases share (the same input column shift): kernel-4 stride-2 layers read 3 or 2
    /// columns per input row for 4 taps, kernel-3 ones 2 for 3. Only the patterns of common layers are listed.
    /// </summary>
    internal enum ColumnSharing
    {
        /// <summary>No odd tap reads what an even one reads (or a pattern not listed).</summary>
        None,

        /// <summary>Two taps each; the second odd tap reads the first even tap's column (kernel 4, odd padding).</summary>
        SecondOddIsFirstEven,

        /// <summary>The same number of taps, reading the same columns (kernel 4 with even padding, kernel 2 without padding).</summary>
        OddIsEven,

        /// <summary>One even and two odd taps; the second odd tap reads the even tap's column (kernel 3, odd padding).</summary>
        SecondOddIsEven,

        /// <summary>Two even and one odd tap, reading the first even tap's column (kernel 3, even padding).</summary>
        OddIsFirstEven,
    }

    /// <summary>
    /// How the paired width kernel runs one row phase (see <see cref="PairedColumnPlan.FormFor"/>): by loops, or in
    /// straight-line code for a count of flattened taps per width phase and a column-sharing pattern. Only the combinations a
    /// sharing pattern allows are listed (a pattern fixes both phases' column taps, so the counts are the row taps times those).
    /// </summary>
    internal enum PairedTaps
    {
        /// <summary>Tap counts other than 1, 2 or 4 per width phase: loops over the taps.</summary>
        Looped,

        /// <summary>No shared column, 1 even and 1 odd flattened taps.</summary>
        None1x1,

        /// <summary>No shared column, 1 even and 2 odd flattened taps.</summary>
        None1x2,

        /// <summary>No shared column, 1 even and 4 odd flattened taps.</summary>
        None1x4,

        /// <summary>No shared column, 2 even and 1 odd flattened taps.</summary>
        None2x1,

        /// <summary>No shared column, 2 even and 2 odd flattened taps.</summary>
        None2x2,

        /// <summary>No shared column, 2 even and 4 odd flattened taps.</summary>
        None2x4,

        /// <summary>No shared column, 4 even and 1 odd flattened taps.</summary>
        None4x1,

        /// <summary>No shared column, 4 even and 2 odd flattened taps.</summary>
        None4x2,

        /// <summary>No shared column, 4 even and 4 odd flattened taps.</summary>
        None4x4,

        /// <summary>Columns shared as <see cref="ColumnSharing.SecondOddIsFirstEven"/>, 2 even and 2 odd flattened taps.</summary>
        SecondOddIsFirstEven2x2,

        /// <summary>Columns shared as <see cref="ColumnSharing.SecondOddIsFirstEven"/>, 4 even and 4 odd flattened taps.</summary>
        SecondOddIsFirstEven4x4,

        /// <summary>Columns shared as <see cref="ColumnSharing.OddIsEven"/>, 1 even and 1 odd flattened taps.</summary>
        OddIsEven1x1,

        /// <summary>Columns shared as <see cref="ColumnSharing.OddIsEven"/>, 2 even and 2 odd flattened taps.</summary>
        OddIsEven2x2,

        /// <summary>Columns shared as <see cref="ColumnSharing.OddIsEven"/>, 4 even and 4 odd flattened taps.</summary>
        OddIsEven4x4,

        /// <summary>Columns shared as <see cref="ColumnSharing.SecondOddIsEven"/>, 1 even and 2 odd flattened taps.</summary>
        SecondOddIsEven1x2,

        /// <summary>Columns shared as <see cref="ColumnSharing.SecondOddIsEven"/>, 2 even and 4 odd flattened taps.</summary>
        SecondOddIsEven2x4,

        /// <summary>Columns shared as <see cref="ColumnSharing.OddIsFirstEven"/>, 2 even and 1 odd flattened taps.</summary>
        OddIsFirstEven2x1,

        /// <summary>Columns shared as <see cref="ColumnSharing.OddIsFirstEven"/>, 4 even and 2 odd flattened taps.</summary>
        OddIsFirstEven4x2,
    }
}
