using Cimef.Site.Pages.AuditPages;

namespace Cimef.Site.Tests.Auditing;

/// <summary>The top lists merge the closed days' sums with the open day's counts without copying either.</summary>
public class StatisticsRankingTests
{
    [Fact]
    public void The_top_rows_are_the_largest_merged_sums_then_the_smaller_id()
    {
        var closed = new Dictionary<long, long> { [1] = 5, [2] = 9, [3] = 7, [4] = 7, [5] = 1 };
        var open = new Dictionary<long, long> { [5] = 8, [6] = 7, [1] = 1 };
        // Merged: 1→6, 2→9, 3→7, 4→7, 5→9, 6→7 (open only).
        Assert.Equal([(2, 9), (5, 9), (3, 7), (4, 7)], StatisticsModel.Ranked(closed, open, 4));
        Assert.Equal([(2, 9), (5, 9), (3, 7), (4, 7), (6, 7), (1, 6)], StatisticsModel.Ranked(closed, open, 1000));
        Assert.Equal([(6, 7)], StatisticsModel.Ranked(new Dictionary<long, long>(), new Dictionary<long, long> { [6] = 7 }, 10));
        Assert.Empty(StatisticsModel.Ranked(new Dictionary<long, long>(), new Dictionary<long, long>(), 10));
    }
}
