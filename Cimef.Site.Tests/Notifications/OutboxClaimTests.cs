using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Tests.Notifications;

/// <summary>The outbox's claim and lease rules, on one site with processors that stand for several nodes (both engines).</summary>
public class OutboxClaimTests : IDisposable
{
    private readonly CimefFactory _factory = new();

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task<T> AsNodeAsync<T>(string node, Func<OutboxProcessor, CimefDb, Task<T>> work)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var processor = ActivatorUtilities.CreateInstance<OutboxProcessor>(scope.ServiceProvider, Options.Create(new ClusterOptions { NodeName = node }));
        return await work(processor, scope.ServiceProvider.GetRequiredService<CimefDb>());
    }

    private int LeaseSeconds => _factory.Services.GetRequiredService<IOptions<NotificationsOptions>>().Value.LeaseSeconds;

    private string[] PickedUpEmails() =>
        Directory.Exists(Path.Combine(_factory.DataDir, "mail-pickup")) ? Directory.GetFiles(Path.Combine(_factory.DataDir, "mail-pickup"), "*.eml") : [];

    [Fact]
    public async Task Two_nodes_polling_at_once_send_every_message_exactly_once()
    {
        for (var i = 0; i < 30; i++) await _factory.Data.PatientAsync(email: $"patient{i}@example.sn");
        var queued = await _factory.WithDbAsync(db => db.OutboxMessages.CountAsync());
        Assert.True(queued >= 60, $"{queued} messages queued");

        async Task<int> PollAsync(string node)
        {
            var attempted = 0;
            int n;
            do { attempted += n = await AsNodeAsync(node, (p, _) => p.ProcessDueAsync()); } while (n > 0);
            return attempted;
        }
        var counts = await Task.WhenAll(PollAsync("node-a"), PollAsync("node-b"), PollAsync("node-a"), PollAsync("node-b"));

        Assert.Equal(queued, counts.Sum()); // no message attempted twice
        var rows = await _factory.WithDbAsync(db => db.OutboxMessages.AsNoTracking().ToListAsync());
        Assert.All(rows, m =>
        {
            Assert.Equal(OutboxStatus.Sent, m.Status);
            Assert.Equal(1, m.Attempts);
            Assert.Contains(m.ClaimedBy, new[] { "node-a", "node-b" });
            Assert.Null(m.LeaseUntil);
        });
        var emails = PickedUpEmails().Select(f => MimeKit.MimeMessage.Load(f).To.Mailboxes.Single().Address).ToList();
        Assert.Equal(rows.Count(m => m.Channel == OutboxChannel.Email), emails.Count);
        Assert.Equal(emails.Count, emails.Distinct().Count());
    }

    [Fact]
    public async Task A_claim_left_by_a_dead_node_is_sent_by_another_once_its_lease_has_run_out()
    {
        var p = await _factory.Data.PatientAsync();
        var now = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithDbAsync(db => db.OutboxMessages.ExecuteUpdateAsync(s => s
            .SetProperty(m => m.ClaimedBy, "dead-node").SetProperty(m => m.LeaseUntil, now.AddSeconds(LeaseSeconds))));

        Assert.Equal(0, await AsNodeAsync("node-b", (proc, _) => proc.ProcessDueAsync()));
        _factory.Time.Advance(TimeSpan.FromSeconds(LeaseSeconds - 1));
        Assert.Equal(0, await AsNodeAsync("node-b", (proc, _) => proc.ProcessDueAsync()));
        Assert.Empty(PickedUpEmails());

        _factory.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await AsNodeAsync("node-b", (proc, _) => proc.ProcessDueAsync()) > 0);
        var rows = await _factory.OutboxOfAsync(p.PatientId);
        Assert.All(rows, m => Assert.Equal((OutboxStatus.Sent, "node-b", 1), (m.Status, m.ClaimedBy, m.Attempts)));
        Assert.Single(PickedUpEmails());
    }

    [Fact]
    public async Task A_node_whose_lease_was_taken_over_cannot_overwrite_the_new_claimers_outcome()
    {
        var p = await _factory.Data.PatientAsync();
        await AsNodeAsync("node-a", async (slow, db) =>
        {
            var ids = await slow.ClaimAsync();
            Assert.NotEmpty(ids);
            var mine = await db.OutboxMessages.SingleAsync(m => m.Id == ids[0]);
            Assert.Equal("node-a", mine.ClaimedBy);

            // node-a stalls past its lease; node-b claims the same messages again and sends them.
            _factory.Time.Advance(TimeSpan.FromSeconds(LeaseSeconds));
            Assert.True(await AsNodeAsync("node-b", (fast, _) => fast.ProcessDueAsync()) > 0);

            mine.Status = OutboxStatus.Failed;
            mine.LastError = "délai dépassé";
            mine.LeaseUntil = null;
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => db.SaveChangesAsync());
            return 0;
        });
        var rows = await _factory.OutboxOfAsync(p.PatientId);
        Assert.All(rows, m => Assert.Equal((OutboxStatus.Sent, "node-b", (string?)null), (m.Status, m.ClaimedBy, m.LastError)));
    }
}
