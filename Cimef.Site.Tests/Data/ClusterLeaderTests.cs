using Cimef.Site.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Tests.Data;

/// <summary>Leader election and the JobState rules, on one site with objects that stand for several nodes.</summary>
public class ClusterLeaderTests : IDisposable
{
    private readonly CimefFactory _factory = new();

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private ClusterLeader NewNode() =>
        new(_factory.Services.GetRequiredService<IOptions<DatabaseOptions>>(), NullLogger<ClusterLeader>.Instance);

    [Fact]
    public async Task One_leader_at_a_time_on_postgres_and_the_next_takes_over_when_it_goes_while_sqlite_always_leads()
    {
        var a = NewNode();
        await using var b = NewNode();
        Assert.True(await a.IsLeaderAsync());
        Assert.True(await a.IsLeaderAsync()); // holding it is not losing it
        Assert.Equal(!TestDatabase.IsPostgres, await b.IsLeaderAsync());

        await a.DisposeAsync(); // the leader's session ends (as when its process dies)
        Assert.True(await BecomesLeaderAsync(b));
    }

    [PostgresFact]
    public async Task A_leader_whose_session_was_killed_loses_leadership_and_another_node_takes_it()
    {
        await using var a = NewNode();
        await using var b = NewNode();
        Assert.True(await a.IsLeaderAsync());
        Assert.False(await b.IsLeaderAsync());

        // The server ends the leader's session (network cut, failover): the lock is released with it.
        await _factory.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cimef-portal-leader' AND pid <> pg_backend_pid()"));
        Assert.True(await BecomesLeaderAsync(b));
        Assert.False(await a.IsLeaderAsync()); // re-checked on every pass: a sees its broken connection, then finds the lock taken
        Assert.False(await a.IsLeaderAsync());
    }

    /// <summary>
    /// Polls (a few milliseconds apart, 10 s at most): the server releases a session's lock when its backend process
    /// exits, a moment after the client closed or the backend was told to end; nodes retry at their next pass.
    /// </summary>
    private static async Task<bool> BecomesLeaderAsync(ClusterLeader node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await node.IsLeaderAsync())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(50);
        }
        return true;
    }

    [Fact]
    public async Task A_due_job_starts_on_one_node_only_and_is_not_due_again_before_its_interval()
    {
        var now = _factory.Time.GetUtcNow().UtcDateTime;
        var hour = TimeSpan.FromHours(1);
        var starts = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            _factory.WithDbAsync(db => JobRuns.TryStartAsync(db, "test-job", hour, now, $"node-{i}"))));
        Assert.Single(starts, started => started);

        Assert.False(await _factory.WithDbAsync(db => JobRuns.TryStartAsync(db, "test-job", hour, now.AddMinutes(59), "node-x")));
        Assert.True(await _factory.WithDbAsync(db => JobRuns.TryStartAsync(db, "test-job", hour, now.AddHours(1), "node-x")));
        var state = await _factory.WithDbAsync(db => db.JobStates.AsNoTracking().SingleAsync(j => j.Name == "test-job"));
        Assert.Equal(("node-x", now.AddHours(1)), (state.RunBy, state.LastRunAt!.Value));
    }

    [Fact]
    public async Task A_cursor_moves_by_compare_and_set_so_two_nodes_never_take_the_same_item()
    {
        Assert.Null(await _factory.WithDbAsync(db => JobRuns.CursorAsync(db, "test-cursor")));
        Assert.True(await _factory.WithDbAsync(db => JobRuns.TryAdvanceAsync(db, "test-cursor", null, 5)));
        var moves = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            _factory.WithDbAsync(db => JobRuns.TryAdvanceAsync(db, "test-cursor", 5, 6))));
        Assert.Single(moves, moved => moved);
        Assert.False(await _factory.WithDbAsync(db => JobRuns.TryAdvanceAsync(db, "test-cursor", null, 9)));
        Assert.Equal(6, await _factory.WithDbAsync(db => JobRuns.CursorAsync(db, "test-cursor")));
    }
}
