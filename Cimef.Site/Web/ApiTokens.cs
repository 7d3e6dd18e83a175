using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Web;

/// <summary>
/// Creating, listing and revoking API tokens, shared by the CLI and the admin page (/Staff/Tokens).
/// Only the token's SHA-256 is stored; the token itself is shown once at creation and never listed.
/// Creating and revoking are audited (who, which token, when).
/// </summary>
public static class ApiTokens
{
    public const int DefaultDays = 365;
    public const int MaxDays = 3650;

    public sealed record Row(int Id, string Name, string OwnerEmail, DateTime CreatedAt, DateTime ExpiresAt, DateTime? LastUsedAt, DateTime? RevokedAt)
    {
        public bool IsActive(DateTime now) => RevokedAt is null && ExpiresAt > now;
    }

    /// <summary>Adds the token row and its audit entry to the unit of work; the caller saves. Returns the token to show once.</summary>
    public static string Create(CimefDb db, StaffUser owner, string name, int days, DateTime now, string? byUserId, string? byUserName)
    {
        var token = ApiTokenHandler.NewToken();
        var row = new ApiToken
        {
            UserId = owner.Id,
            Name = name.Trim(),
            TokenHash = ApiTokenHandler.HashToken(token),
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
        };
        db.ApiTokens.Add(row);
        Audit.Staff(db, byUserId, byUserName, now, "api_token.create", "ApiToken", owner.Email, $"{row.Name}, {days} jours");
        return token;
    }

    public static Task<List<Row>> ListAsync(CimefDb db, CancellationToken ct = default) =>
        db.ApiTokens.AsNoTracking().OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Select(t => new Row(t.Id, t.Name, t.User.Email ?? t.User.UserName ?? t.UserId, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt))
            .ToListAsync(ct);

    public enum RevokeOutcome { Revoked, AlreadyRevoked, NotFound }

    /// <summary>Marks the token revoked (audited) and saves; the next request with it is a 401.</summary>
    public static async Task<(RevokeOutcome Outcome, ApiToken? Token)> RevokeAsync(CimefDb db, int id, DateTime now, string? byUserId, string? byUserName)
    {
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == id);
        if (token is null) return (RevokeOutcome.NotFound, null);
        if (token.RevokedAt is not null) return (RevokeOutcome.AlreadyRevoked, token);
        token.RevokedAt = now;
        Audit.Staff(db, byUserId, byUserName, now, "api_token.revoke", "ApiToken", token.Id, token.Name);
        await db.SaveChangesAsync();
        return (RevokeOutcome.Revoked, token);
    }
}
