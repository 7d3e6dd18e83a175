using Cimef.Site.Data;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Staff;

/// <summary>Admin (folder convention): the API tokens, newest first, and their revocation (audited). Never the token itself.</summary>
public class TokensModel(CimefDb db, UserManager<Data.Entities.StaffUser> users, TimeProvider time) : StaffPage
{
    public IReadOnlyList<ApiTokens.Row> Rows { get; private set; } = [];
    public DateTime Now { get; private set; }

    public async Task OnGetAsync()
    {
        Now = time.GetUtcNow().UtcDateTime;
        Rows = await ApiTokens.ListAsync(db, HttpContext.RequestAborted);
    }

    public async Task<IActionResult> OnPostRevokeAsync(int id)
    {
        Now = time.GetUtcNow().UtcDateTime;
        var (outcome, token) = await ApiTokens.RevokeAsync(db, id, Now, users.GetUserId(User), User.Identity?.Name);
        if (outcome == ApiTokens.RevokeOutcome.NotFound) return NotFound();
        var message = outcome == ApiTokens.RevokeOutcome.Revoked ? $"Jeton « {token!.Name} » révoqué." : $"Le jeton « {token!.Name} » était déjà révoqué.";
        return await DoneAsync(message, async () =>
        {
            var row = (await ApiTokens.ListAsync(db, HttpContext.RequestAborted)).Single(r => r.Id == id);
            return Partial("_TokenRow", (row, Now));
        });
    }
}
