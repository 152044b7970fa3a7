using System;
using System.Collections.Generic;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    internal sealed partial class KernelBodyWriter
    {
        // ----- Channel-vectorised: vectors along the output channels of a group, register-blocked over pixels of a phase row -----

        private void WriteChannelVectorized()
        {
            foreach (var rowPhase in _rows.Phases)
            {
                ForEachRow(rowPhase, (qh, rowTaps) =>
                {
                    foreach (var columnPhase in _columns.Phases)
                    {
                        var all = Taps(columnPhase);
                        ForEachEdge("q", columnPhase.FirstQ, columnPhase.InteriorFirstQ, all, _spec.InputWidth,
                            (q, taps) => PixelBlock(rowPhase, qh, rowTaps, columnPhase, q, 1, taps));

                        int first = columnPhase.InteriorFirstQ, run = columnPhase.InteriorEndQ - columnPhase.InteriorFirstQ;
                        int whole = run / KernelPlanner.PixelBlock;
                        Repeat("q", first, whole, KernelPlanner.PixelBlock, RollSpatial,
                            q => PixelBlock(rowPhase, qh, rowTaps, columnPhase, q, KernelPlanner.PixelBlock, all));
                        Repeat("q", first + whole * KernelPlanner.PixelBlock, run - whole * KernelPlanner.PixelBlock, 1, RollSpatial,
                            q => PixelBlock(rowPhase, qh, rowTaps, columnPhase, q, 1, all));
                        ForEachEdge("q", Math.Max(columnPhase.InteriorEndQ, columnPhase.InteriorFirstQ), columnPhase.EndQ, all, _spec.InputWidth,
                            (q, taps) => PixelBlock(rowPhase, qh, rowTaps, columnPhase, q, 1, taps));
                    }
                });
            }
        }

        private void PixelBlock(AxisPhase rowPhase, Affine qh, Tap[] rowTaps, AxisPhase columnPhase, Affine q, int pixels, Tap[] columnTaps)
        {
            int perGroup = _spec.OutPerGroup;
            int pair = 2 * _lanes;
            int pairs = perGroup / pair;
            Repeat("g", 0, _spec.Groups, 1, RollChannels, group =>
            {
                Repeat("ob", 0, pairs, pair, RollChannels,
                    first => ChannelBlock(group, new[] { first, first + _lanes }, _lanes, rowPhase, qh, rowTaps, columnPhase, q, pixels, columnTaps));
                int position = pairs * pair, left = perGroup - position;
                var widths = new List<int>();
                if (_lanes > 1) widths.Add(_lanes);
                widths.AddRange(NarrowerVectorWidths());
                foreach (int width in widths)
                {
                    for (; left >= width; left -= width, position += width)
                        ChannelBlock(group, new[] { Affine.Of(position) }, width, rowPhase, qh, rowTaps, columnPhase, q, pixels, columnTaps);
                }

                Repeat("ob", position, left, 1, RollChannels,
                    channel => ChannelBlock(group, new[] { channel }, 1, rowPhase, qh, rowTaps, columnPhase, q, pixels, columnTaps));
            });
        }

        /// <summary>
        /// One or two channel vectors of <paramref name="width"/> lanes for <paramref name="pixels"/> consecutive pixels of a phase
        /// row: each weight vector (channels of one tap, <c>kH * kW</c> apart in PyTorch's layout) feeds every pixel's FMA with
        /// a broadcast input.
        /// </summary>
        private void ChannelBlock(Affine group, Affine[] firstChannels, int width, AxisPhase rowPhase, Affine qh, Tap[] rowTaps,
            AxisPhase columnPhase, Affine q, int pixels, Tap[] columnTaps)
        {
            int vectors = firstChannels.Length;
            int taps = _spec.KernelHeight * _spec.KernelWidth;
            int outputStep = _spec.ChannelsLast ? 1 : _spec.OutputHeight * _spec.OutputWidth;
            // Weight vectors go into locals when several pixels share them, or when they are gathered (long to write twice).
            bool weightLocals = pixels > 1 || (width > 1 && taps > 1);
            if (_writer is null)
            {
                // Counting: the statements below, without building their text.
                long perTap = (weightLocals ? vectors : 0) + (long)pixels * (vectors + (vectors > 1 ? 1 : 0));
                long reduction = (long)rowTaps.Length * columnTaps.Length * perTap * ReductionCopies();
                long temporaries = reduction > 0 ? (weightLocals ? vectors : 0) + (vectors > 1 ? 1 : 0) : 0;
                AddCount((long)pixels * vectors + temporaries + reduction + (long)pixels * vectors * StoreStatements(width, outputStep));
                return;
            }

            var outputRow = OutputRow(rowPhase, qh);
            var outputColumn = OutputColumn(columnPhase, q);
            var groupOutput = group * _spec.OutPerGroup;
            if (_writer is { } w)
            {
                string channels = ChannelRange(groupOutput + firstChannels[0], vectors * width);
                string columns = pixels == 1 ? outputColumn.ToString() : Positions(outputColumn, pixels, _spec.StrideWidth);
                w.Line("// " + channels + ", oy " + outputRow + ", ox " + columns
                    + " | phase (rh " + Text(rowPhase.Residue) + ", rw " + Text(columnPhase.Residue) + ") | taps " + TapList("ky", rowTaps) + " x " + TapList("kx", columnTaps));
                w.Open();
            }

            _declared.Clear();
            for (int p = 0; p < pixels; p++)
            {
                for (int k = 0; k < vectors; k++)
                {
                    string init = p > 0 ? Accumulator(0, k)
                        : _spec.HasBias ? Load(width, "b", groupOutput + firstChannels[k], 1)
                        : Zero(width);
                    Declare(Accumulator(p, k), init);
                }
            }

            if (rowTaps.Length > 0 && columnTaps.Length > 0)
            {
                if (weightLocals)
                {
                    for (int k = 0; k < vectors; k++) Predeclare("w" + Text(k), width);
                }

                if (vectors > 1) Predeclare("v", width);
                Repeat("ic", 0, _spec.InPerGroup, 1, RollReduction, ic =>
                {
                    var inputChannel = group * _spec.InPerGroup + ic;
                    foreach (var rowTap in rowTaps)
                    {
                        WithGuard(Guard(rowTap, qh, _spec.InputHeight), () =>
                        {
                            foreach (var columnTap in columnTaps)
                                WithGuard(Guard(columnTap, q, _spec.InputWidth), () => ChannelTap(inputChannel, firstChannels, width, qh, rowTap, q, pixels, columnTap, taps, weightLocals));
                        });
                    }
                });
            }

            for (int p = 0; p < pixels; p++)
            {
                for (int k = 0; k < vectors; k++)
                    Store(width, OutputIndex(groupOutput + firstChannels[k], outputRow, outputColumn + (long)p * _spec.StrideWidth), outputStep, Accumulator(p, k));
            }

            _writer?.Close();
        }

        /// <summary>The FMAs of one (row tap, column tap) pair of a channel block: weight vectors loaded once, inputs broadcast per pixel.</summary>
        private void ChannelTap(Affine inputChannel, Affine[] firstChannels, int width, Affine qh, Tap rowTap, Affine q, int pixels, Tap columnTap, int taps,
            bool weightLocals)
        {
            int vectors = firstChannels.Length;
            var weights = new string[vectors];
            for (int k = 0; k < vectors; k++)
            {
                weights[k] = Load(width, "w", WeightIndex(inputChannel, firstChannels[k], rowTap.KernelIndex, columnTap.KernelIndex), taps);
                if (weightLocals)
                {
                    Assign("w" + Text(k), weights[k]);
                    weights[k] = "w" + Text(k);
                }
            }

            for (int p = 0; p < pixels; p++)
            {
                string input = Broadcast(width, "x", InputIndex(inputChannel, qh - rowTap.Offset, q + p - columnTap.Offset));
                if (vectors > 1)
                {
                    Assign("v", input);
                    input = "v";
                }

                for (int k = 0; k < vectors; k++)
                    MultiplyAdd(width, Accumulator(p, k), input, weights[k]);
            }
        }
    }
}
