using System;
using System.Collections.Generic;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    internal sealed partial class KernelBodyWriter
    {
        // ----- Width-vectorised: vectors along the output positions of one phase row, register-blocked over output channels -----

        private void WriteWidthVectorized()
        {
            int perGroup = _spec.OutPerGroup;
            int block = Math.Min(KernelPlanner.OutputChannelBlock, perGroup);
            int fullBlocks = perGroup / block, tail = perGroup % block;
            Repeat("g", 0, _spec.Groups, 1, RollChannels, group =>
            {
                Repeat("ob", 0, fullBlocks, block, RollChannels, first => WidthChannelBlock(group, first, block));
                if (tail > 0) WidthChannelBlock(group, Affine.Of((long)fullBlocks * block), tail);
            });
        }

        private void WidthChannelBlock(Affine group, Affine firstChannel, int channels)
        {
            foreach (var rowPhase in _rows.Phases)
            {
                ForEachRow(rowPhase, (qh, rowTaps) =>
                {
                    foreach (var columnPhase in _columns.Phases)
                    {
                        var all = Taps(columnPhase);
                        ForEachEdge("q", columnPhase.FirstQ, columnPhase.InteriorFirstQ, all, _spec.InputWidth,
                            (q, taps) => WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, columnPhase, q, 1, taps));

                        int first = columnPhase.InteriorFirstQ, run = columnPhase.InteriorEndQ - columnPhase.InteriorFirstQ;
                        int whole = run / _lanes;
                        Repeat("q", first, whole, _lanes, RollSpatial,
                            q => WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, columnPhase, q, _lanes, all));
                        int position = first + whole * _lanes, left = run - whole * _lanes;
                        foreach (int width in NarrowerVectorWidths())
                        {
                            for (; left >= width; left -= width, position += width)
                                WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, columnPhase, Affine.Of(position), width, all);
                        }

                        Repeat("q", position, left, 1, RollSpatial,
                            q => WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, columnPhase, q, 1, all));
                        ForEachEdge("q", Math.Max(columnPhase.InteriorEndQ, columnPhase.InteriorFirstQ), columnPhase.EndQ, all, _spec.InputWidth,
                            (q, taps) => WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, columnPhase, q, 1, taps));
                    }
                });
            }
        }

        /// <summary>
        /// <paramref name="width"/> consecutive positions of one phase row for <paramref name="channels"/> output channels: one
        /// accumulator vector per channel; each input vector (contiguous in NCHW) feeds every channel's FMA with a broadcast weight.
        /// </summary>
        private void WidthBlock(Affine group, Affine firstChannel, int channels, AxisPhase rowPhase, Affine qh, Tap[] rowTaps,
            AxisPhase columnPhase, Affine q, int width, Tap[] columnTaps)
        {
            int inputStep = _spec.ChannelsLast ? _spec.InChannels : 1;
            int outputStep = _spec.StrideWidth * (_spec.ChannelsLast ? _spec.OutChannels : 1);
            // The input vector goes into a local when several FMAs share it, or when it is gathered (long to write twice).
            bool inputLocal = channels > 1 || (width > 1 && inputStep != 1);
            if (_writer is null)
            {
                // Counting: the statements below, without building their text (the dry run must stay cheap for huge shapes).
                long perTap = channels + (inputLocal ? 1 : 0);
                long reduction = (long)rowTaps.Length * columnTaps.Length * perTap * ReductionCopies();
                AddCount(channels + (reduction > 0 && inputLocal ? 1 : 0) + reduction + channels * StoreStatements(width, outputStep));
                return;
            }

            var outputRow = OutputRow(rowPhase, qh);
            var outputColumn = OutputColumn(columnPhase, q);
            var groupChannel = group * _spec.OutPerGroup + firstChannel;
            if (_writer is { } w)
            {
                w.Line("// " + ChannelRange(groupChannel, channels) + ", oy " + outputRow + ", ox " + Positions(outputColumn, width, _spec.StrideWidth)
                    + " | phase (rh " + Text(rowPhase.Residue) + ", rw " + Text(columnPhase.Residue) + ") | taps " + TapList("ky", rowTaps) + " x " + TapList("kx", columnTaps));
                w.Open();
            }

            _declared.Clear();
            for (int c = 0; c < channels; c++)
                Declare("a" + Text(c), _spec.HasBias ? Broadcast(width, "b", groupChannel + c) : Zero(width));

            if (rowTaps.Length > 0 && columnTaps.Length > 0)
            {
                if (inputLocal) Predeclare("v", width);
                Repeat("ic", 0, _spec.InPerGroup, 1, RollReduction, ic =>
                {
                    var inputChannel = group * _spec.InPerGroup + ic;
                    foreach (var rowTap in rowTaps)
                    {
                        WithGuard(Guard(rowTap, qh, _spec.InputHeight), () =>
                        {
                            foreach (var columnTap in columnTaps)
                            {
                                WithGuard(Guard(columnTap, q, _spec.InputWidth), () =>
                                {
                                    string input = Load(width, "x", InputIndex(inputChannel, qh - rowTap.Offset, q - columnTap.Offset), inputStep);
                                    if (inputLocal)
                                    {
                                        Assign("v", input);
                                        input = "v";
                                    }

                                    for (int c = 0; c < channels; c++)
                                    {
                                        var weight = WeightIndex(inputChannel, firstChannel + c, rowTap.KernelIndex, columnTap.KernelIndex);
                                        MultiplyAdd(width, "a" + Text(c), input, Broadcast(width, "w", weight));
                                    }
                                });
                            }
                        });
                    }
                });
            }

            for (int c = 0; c < channels; c++)
                Store(width, OutputIndex(groupChannel + c, outputRow, outputColumn), outputStep, "a" + Text(c));

            _writer?.Close();
        }
    }
}
