using System.Net;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Cimef.Site.Tests.Faults;

/// <summary>PostgreSQL's "busy" errors get the same French 503 as SQLite's SQLITE_BUSY.</summary>
public class PostgresBusyTests
{
    [Theory]
    [InlineData("40001")] // serialization_failure
    [InlineData("40P01")] // deadlock_detected
    [InlineData("55P03")] // lock_not_available (lock_timeout)
    [InlineData("57014")] // query_canceled (statement_timeout)
    public void Contention_states_count_as_busy(string sqlState)
    {
        var e = new PostgresException("contention", "ERROR", "ERROR", sqlState);
        Assert.True(FriendlyExceptionHandler.IsDatabaseBusy(e));
        Assert.True(FriendlyExceptionHandler.IsDatabaseBusy(new InvalidOperationException("wrapped", e)));
    }

    [Fact]
    public void Other_postgres_errors_are_not_busy() =>
        Assert.False(FriendlyExceptionHandler.IsDatabaseBusy(new PostgresException("unique", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)));

    [PostgresFact]
    public async Task A_sign_in_blocked_by_a_table_lock_beyond_the_timeout_answers_a_french_503()
    {
        using var factory = new CimefFactory();
        factory.Settings["Database:StatementTimeoutSeconds"] = "2";
        await factory.CreateStaffAsync("busy@cimef.test", Roles.Secretary);
        var client = factory.NewClient();
        var token = await client.GetAntiforgeryTokenAsync("/Account/SignIn");

        var connectionString = await factory.WithDbAsync(db => Task.FromResult(db.Database.GetConnectionString()!));
        await using var locker = new NpgsqlConnection(connectionString);
        await locker.OpenAsync();
        await using var tx = await locker.BeginTransactionAsync();
        await using (var lockCmd = new NpgsqlCommand("LOCK TABLE \"AspNetUsers\" IN ACCESS EXCLUSIVE MODE", locker, tx))
            await lockCmd.ExecuteNonQueryAsync();

        var response = await client.PostAsync("/Account/SignIn", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = "busy@cimef.test",
            ["Input.Password"] = CimefFactory.StaffPassword,
            ["__RequestVerificationToken"] = token,
        }));
        await tx.RollbackAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("momentanément", body);
        Assert.DoesNotContain("Exception", body);
        Assert.True(response.Headers.Contains("Retry-After"));
    }
}
