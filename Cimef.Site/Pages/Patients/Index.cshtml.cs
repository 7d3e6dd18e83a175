using Cimef.Site.Data;
using Cimef.Site.FrontDesk;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Patients;

/// <summary>Front desk: find a patient by name, phone, access key or invoice number (search as you type).</summary>
[Authorize(Policy = Policies.FrontDesk)]
public class IndexModel(CimefDb db) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "q")] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;
    public PatientSearch.Page Result { get; private set; } = new([], false, 1);

    public async Task<IActionResult> OnGetAsync()
    {
        Result = await PatientSearch.RunAsync(db.Database.GetDbConnection(), Q, PageNumber, HttpContext.RequestAborted);
        return this.PageOrPartial("_Rows");
    }

    public string PageUrl(int page) => $"/Patients?q={Uri.EscapeDataString(Q ?? "")}&p={page}";
}
